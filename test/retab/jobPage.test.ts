import { describe, expect, it } from 'vitest';
import { InvalidResponseError } from '../../src/retab/errors.ts';
import { parseJob, parseJobPage } from '../../src/retab/jobPage.ts';

function job(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    object: 'job',
    status: 'completed',
    endpoint: '/v1/documents/extract',
    request: null,
    response: null,
    error: null,
    created_at: 1_790_000_000,
    started_at: 1_790_000_010,
    completed_at: 1_790_000_020,
    expires_at: 1_790_604_800,
    organization_id: 'org_1',
    metadata: null,
    ...extra,
  };
}

describe('parseJobPage', () => {
  it('keeps the valid items, rejects the malformed one with its raw value, and passes the envelope through', () => {
    const bad = { ...job('job_bad'), status: 7 };
    const body = {
      object: 'list',
      data: [job('job_a', { future_field: { x: 1 } }), bad, job('job_c')],
      first_id: 'job_a',
      last_id: 'job_c',
      has_more: true,
    };
    const page = parseJobPage(body, 'GET /jobs');
    expect(page.data.map((j) => j.id)).toEqual(['job_a', 'job_c']);
    expect(page.data[0]).toMatchObject({ future_field: { x: 1 } });
    expect(page).toMatchObject({ first_id: 'job_a', last_id: 'job_c', has_more: true, object: 'list' });
    expect(page.rejected).toHaveLength(1);
    const r = page.rejected[0];
    expect(r).toMatchObject({ index: 1, id: 'job_bad', raw: bad });
    expect(r?.reason).toMatch(/^status: /);
    expect(r?.reason).not.toContain('\n');
    expect(r?.issues.length).toBeGreaterThan(0);
  });

  it('reports an item without a readable id with id null', () => {
    const page = parseJobPage(
      {
        object: 'list',
        data: [42, { ...job('job_x'), id: 7 }],
        first_id: null,
        last_id: null,
        has_more: false,
      },
      'GET /jobs',
    );
    expect(page.data).toEqual([]);
    expect(page.rejected.map((r) => [r.index, r.id])).toEqual([
      [0, null],
      [1, null],
    ]);
  });

  it('throws a non-retryable InvalidResponseError for a wrong envelope', () => {
    for (const body of [
      { data: [] },
      [],
      { object: 'list', data: {}, first_id: null, last_id: null, has_more: false },
    ]) {
      expect(() => parseJobPage(body, 'GET /jobs')).toThrow(InvalidResponseError);
    }
    try {
      parseJobPage({ object: 'list' }, 'GET /jobs');
    } catch (e) {
      expect((e as InvalidResponseError).retryable).toBe(false);
      expect((e as Error).message).toContain('GET /jobs');
    }
  });
});

describe('parseJob', () => {
  it('parses a job and rejects a malformed one', () => {
    expect(parseJob(job('job_a'), 'GET /jobs/job_a').id).toBe('job_a');
    expect(() => parseJob({ id: 'job_a' }, 'GET /jobs/job_a')).toThrow(/unexpected job body/);
  });

  it('reads the current envelope alone: list_metadata.after is the next cursor, null on the last page', () => {
    const more = parseJobPage(
      { data: [job('job_a'), job('job_b')], list_metadata: { before: null, after: 'job_b' } },
      'GET /jobs',
    );
    expect(more).toMatchObject({ last_id: 'job_b', has_more: true });
    const end = parseJobPage(
      { data: [job('job_c')], list_metadata: { before: 'job_c', after: null } },
      'GET /jobs',
    );
    expect(end).toMatchObject({ first_id: 'job_c', last_id: 'job_c', has_more: false });
    // Walking backward, what remains lies behind `before`.
    const back = parseJobPage(
      { data: [job('job_c')], list_metadata: { before: 'job_c', after: 'job_c' } },
      'GET /jobs',
      'before',
    );
    expect(back).toMatchObject({ first_id: 'job_c', has_more: true });
  });

  it('with both envelopes in one body, follows list_metadata', () => {
    const page = parseJobPage(
      {
        object: 'list',
        data: [job('job_a')],
        first_id: 'job_a',
        last_id: 'job_a',
        has_more: true,
        list_metadata: { before: null, after: null },
      },
      'GET /jobs',
    );
    expect(page.has_more).toBe(false);
  });

  it('names the fields it expected when a body has neither envelope', () => {
    expect(() => parseJobPage({ items: [], next: null }, 'GET /jobs')).toThrow(
      /expected `data` with `list_metadata: \{before, after\}` or with `first_id`, `last_id`, `has_more`; got keys items, next/,
    );
  });
});
