import { describe, expect, it } from 'vitest';
import { RetabParamsError } from '../../src/retab/errors.ts';
import { serializeListParams } from '../../src/retab/params.ts';
import type { ListJobsParams } from '../../src/retab/schemas.ts';
import { validateListParams } from '../../src/retab/validateListParams.ts';

function rejection(params: unknown): RetabParamsError {
  try {
    validateListParams(params as ListJobsParams);
  } catch (e) {
    if (e instanceof RetabParamsError) return e;
    throw e;
  }
  throw new Error('expected a RetabParamsError');
}

describe('validateListParams', () => {
  it('accepts a full, valid set', () => {
    const p: ListJobsParams = {
      limit: 100,
      order: 'asc',
      status: 'failed',
      endpoint: '/v1/documents/extract',
      source: 'workflow',
      document_type: ['pdf', 'png'],
      from_date: '2026-10-01',
      to_date: '2026-10-31',
      metadata: { team: 'ops' },
      include_request: true,
    };
    expect(validateListParams(p)).toEqual(p);
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 101 }, 'limit'],
    [{ limit: 2.5 }, 'limit'],
    [{ limit: 21, include_response: true }, 'include_response'],
    [{ from_date: '2026-13-01' }, 'from_date'],
    [{ to_date: '2026-02-30' }, 'to_date'],
    [{ status: '' }, 'status'],
    [{ id: 'job_a', job_id: 'job_b' }, 'job_id'],
    [{ order: 'newest' }, 'order'],
    [{ endpoint: '/v1/nope' }, 'endpoint'],
    [{ document_type: ['exe'] }, 'document_type'],
    [{ metadata: { n: 1 } }, 'metadata'],
    [{ before: 'job_a', after: 'job_b' }, 'before'],
    [{ colour: 'red' }, 'colour'],
  ])('rejects %j naming %s', (params, name) => {
    const err = rejection(params);
    expect(err.params).toContain(name);
    expect(err.message).toContain(name);
    expect(err.message).toContain('no request was sent');
    expect(err.issues.length).toBeGreaterThan(0);
  });

  it('accepts include_response with limit <= 20', () => {
    expect(() => validateListParams({ include_response: true, limit: 20 })).not.toThrow();
  });
});

describe('serializeListParams (wire format)', () => {
  it('repeats document_type, JSON-encodes metadata, writes booleans, skips undefined', () => {
    const qs = serializeListParams({
      document_type: ['pdf', 'png'],
      metadata: { team: 'ops', 'a b': 'c&d' },
      include_request: true,
      include_response: false,
      status: undefined,
      limit: 7,
    });
    expect(qs.getAll('document_type')).toEqual(['pdf', 'png']);
    expect(JSON.parse(qs.get('metadata') ?? '')).toEqual({ team: 'ops', 'a b': 'c&d' });
    expect(qs.get('include_request')).toBe('true');
    expect(qs.get('include_response')).toBe('false');
    expect(qs.has('status')).toBe(false);
    expect(qs.get('limit')).toBe('7');
  });
});
