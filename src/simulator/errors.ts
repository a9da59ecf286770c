/** The error the simulator's operations throw, carrying the HTTP answer in Retab's error shape (retab/). */
import { errorBody, jobNotFound } from '../retab/index.ts';

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
  const body = jobNotFound(id);
  return new SimulatorError(404, body, body.detail.message);
}
