import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BadRequestError,
  errorFromResponse,
  InternalServerError,
  InvalidCursorError,
  NotFoundError,
  PermissionDeniedError,
  parseErrorBody,
  RateLimitError,
  type RetabApiError,
  UnprocessableEntityError,
} from '../../src/retab/errors.ts';

const base = { method: 'GET', path: '/jobs' };

describe('parseErrorBody', () => {
  it('reads the structured shape {detail:{code,message,details}}', () => {
    const parsed = parseErrorBody({
      detail: { code: 'invalid_cursor', message: 'No job job_x', details: { cursor: 'job_x' } },
    });
    expect(parsed).toEqual({
      code: 'invalid_cursor',
      message: 'No job job_x',
      details: { cursor: 'job_x' },
      params: [],
    });
  });

  it('reads the text shape {detail:"text"}', () => {
    expect(parseErrorBody({ detail: 'Job not found' })).toMatchObject({
      code: null,
      message: 'Job not found',
    });
  });

  it('reads the 422 list and names every offending parameter once', () => {
    const detail = [
      { loc: ['query', 'limit'], msg: 'Input should be less than or equal to 100', type: 'less_than_equal' },
      { loc: ['query', 'metadata', 'team'], msg: 'Input should be a valid string', type: 'string_type' },
      { loc: ['query', 'limit'], msg: 'again', type: 'x' },
    ];
    const parsed = parseErrorBody({ detail });
    expect(parsed.params).toEqual(['limit', 'metadata.team']);
    expect(parsed.message).toContain('limit: Input should be less than or equal to 100');
    expect(parsed.details).toEqual(detail);
  });

  it('yields nulls for bodies of another shape', () => {
    expect(parseErrorBody('<html>bad gateway</html>')).toMatchObject({ code: null, message: null });
    expect(parseErrorBody({ error: 'x' })).toMatchObject({ code: null, message: null });
    expect(parseErrorBody(undefined)).toMatchObject({ code: null, message: null });
  });
});

describe('errorFromResponse', () => {
  it('maps each status to its class, with the retry decision', () => {
    const cases: [number, new (...a: never[]) => RetabApiError, boolean][] = [
      [400, BadRequestError, false],
      [401, AuthenticationError, false],
      [403, PermissionDeniedError, false],
      [404, NotFoundError, false],
      [422, UnprocessableEntityError, false],
      [429, RateLimitError, true],
      [500, InternalServerError, true],
      [503, InternalServerError, true],
    ];
    for (const [status, cls, retryable] of cases) {
      const err = errorFromResponse({ ...base, status, body: { detail: 'x' } });
      expect(err).toBeInstanceOf(cls);
      expect(err.status).toBe(status);
      expect(err.retryable).toBe(retryable);
    }
    expect(errorFromResponse({ ...base, status: 408, body: undefined }).retryable).toBe(true);
    expect(errorFromResponse({ ...base, status: 409, body: undefined }).retryable).toBe(true);
    expect(errorFromResponse({ ...base, status: 418, body: undefined }).retryable).toBe(false);
  });

  it('sets name, code, details and the request id', () => {
    const err = errorFromResponse({
      ...base,
      status: 503,
      statusText: 'Service Unavailable',
      body: { detail: { code: 'overloaded', message: 'try later', details: { q: 1 } } },
      requestId: 'req_123',
    });
    expect(err.name).toBe('InternalServerError');
    expect(err.code).toBe('overloaded');
    expect(err.details).toEqual({ q: 1 });
    expect(err.requestId).toBe('req_123');
    expect(err.message).toBe('503 Service Unavailable: try later (GET /jobs, request id req_123)');
  });

  it('makes a 400 invalid_cursor an InvalidCursorError (still a BadRequestError)', () => {
    const err = errorFromResponse({
      ...base,
      status: 400,
      body: { detail: { code: 'invalid_cursor', message: 'unknown cursor job_x' } },
    });
    expect(err).toBeInstanceOf(InvalidCursorError);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toContain('restart the walk');
  });

  it('says a 401 key was rejected and names RETAB_API_KEY', () => {
    const err = errorFromResponse({ ...base, status: 401, body: { detail: 'Invalid API key' } });
    expect(err.message).toMatch(/RETAB_API_KEY/);
    expect(err.message).toMatch(/rejected/);
  });

  it('names the offending parameters of a 422', () => {
    const err = errorFromResponse({
      ...base,
      status: 422,
      body: { detail: [{ loc: ['query', 'before'], msg: 'before and after together', type: 'value_error' }] },
    });
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect((err as UnprocessableEntityError).params).toEqual(['before']);
    expect(err.message).toContain('before: before and after together');
  });

  it('carries Retry-After on a 429 and falls back to the raw text for a non-JSON body', () => {
    const rl = errorFromResponse({ ...base, status: 429, body: undefined, retryAfterMs: 2000 });
    expect(rl.retryAfterMs).toBe(2000);
    const html = errorFromResponse({
      ...base,
      status: 502,
      body: undefined,
      text: '<html>\n Bad  gateway</html>',
    });
    expect(html.message).toBe('502 Bad Gateway: <html> Bad gateway</html> (GET /jobs)');
  });
});
