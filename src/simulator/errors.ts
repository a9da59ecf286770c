/** Retab's error shapes, and the error the simulator's operations throw (carrying the HTTP answer). */

export interface ErrorDetail {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}) {
  return { detail: { code, message, details } satisfies ErrorDetail };
}

/** An operation refused the way the upstream would refuse it: `status` and `body` are the HTTP answer. */
export class SimulatorError extends Error {
  override name = 'SimulatorError';
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }

  static of(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ): SimulatorError {
    return new SimulatorError(status, errorBody(code, message, details), message);
  }
}

export function notFound(id: string): SimulatorError {
  return SimulatorError.of(404, 'not_found', `No job with id ${id}.`, { id });
}
