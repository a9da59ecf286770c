/**
 * The one column list of `jobs` (src/mirror/jobColumns.ts) against the drizzle schema: a column added to one
 * and not the other fails here, not in a sync.
 */
import { getTableColumns } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { jobToRow } from '../../src/mirror/index.ts';
import { JOB_COLUMN_ENTRIES, JOB_COLUMNS } from '../../src/mirror/jobColumns.ts';
import { jobs as pgJobs } from '../../src/mirror/pg/schema.ts';
import { jobs } from '../../src/mirror/schema.ts';
import { makeJob } from './factory.ts';

const schemaColumns = Object.entries(getTableColumns(jobs)).filter(([key]) => key !== 'seq');

describe('JOB_COLUMNS', () => {
  it('names every column of the drizzle schema but seq, under the same key and SQL name', () => {
    expect(Object.fromEntries(JOB_COLUMN_ENTRIES.map(([k, c]) => [k, c.sql]))).toEqual(
      Object.fromEntries(schemaColumns.map(([k, c]) => [k, c.name])),
    );
  });

  it('declares the type the schema stores (integer, text, boolean as 0/1, json as text)', () => {
    for (const [key, col] of schemaColumns) {
      const declared = JOB_COLUMNS[key as keyof typeof JOB_COLUMNS].type;
      const stored =
        col.columnType === 'SQLiteBoolean' ? 'boolean' : col.dataType === 'number' ? 'integer' : 'text';
      expect(declared === 'json' ? 'text' : declared, key).toBe(stored);
    }
  });

  it('names the same columns as the PostgreSQL schema, with its types (bigint or integer, boolean, text)', () => {
    const pg = Object.entries(getTableColumns(pgJobs)).filter(([key]) => key !== 'seq');
    expect(Object.fromEntries(pg.map(([k, c]) => [k, c.name]))).toEqual(
      Object.fromEntries(schemaColumns.map(([k, c]) => [k, c.name])),
    );
    for (const [key, col] of pg) {
      const declared = JOB_COLUMNS[key as keyof typeof JOB_COLUMNS].type;
      const sql = col.getSQLType();
      expect(declared === 'json' ? 'text' : declared, key).toBe(sql === 'bigint' ? 'integer' : sql);
    }
  });

  it('only marks keepWhenNull with draft fields that can be null', () => {
    const draft = jobToRow(makeJob({ request: null, attempt_count: null }));
    for (const [key, c] of JOB_COLUMN_ENTRIES) {
      if (c.kind !== 'upstream' || c.keepWhenNull === undefined) continue;
      expect(draft[c.keepWhenNull], key).toBeNull();
    }
  });

  it('derives a draft with exactly the upstream and payload columns (plus the derived rows)', () => {
    const draft = jobToRow(makeJob());
    const expected = JOB_COLUMN_ENTRIES.filter(([, c]) => c.kind !== 'bookkeeping').map(([k]) => k);
    expect(Object.keys(draft).sort()).toEqual([...expected, 'extraFields', 'files', 'metadataPairs'].sort());
  });
});
