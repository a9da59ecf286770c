/**
 * The part of a literal query the trigram index looks up (src/mirror/pg/trigramLookup.ts): chunks of one
 * word each, the common ones left out given a sample of names — and never a name lost: every name the whole
 * query admits, the lookup admits (random patterns and needles, names sampled from them).
 */
import { describe, expect, it } from 'vitest';
import { admits, containsQuery, regexQuery } from '../../src/mirror/filenameLiterals.ts';
import { chunks, lookupQuery } from '../../src/mirror/pg/trigramLookup.ts';

const lit = (l: string) => ({ op: 'lit' as const, lit: l });

// A sample shaped like the simulator's names: `2026` and `pdf` in nearly all, each stem in a few.
const SAMPLE = Array.from({ length: 140 }, (_, i) => {
  const stem = ['invoice', 'receipt', 'scan', 'img', 'contract', 'payslip', 'tax_return'][i % 7];
  const ext = i % 3 === 0 ? 'png' : 'pdf';
  return stem === 'scan'
    ? `scan 2026-10-${String((i % 28) + 1).padStart(2, '0')}.${ext}`
    : `${stem}_2026_${String((i * 7919) % 100000).padStart(5, '0')}.${ext}`;
});

describe('the trigram lookup', () => {
  it('cuts a literal into words with their separators, anchors kept at the ends', () => {
    expect(chunks('scan 2026-10-06 (2).pdf')).toEqual(['scan ', ' 2026-', '-10-', '-06 ', '(2)', '.pdf']);
    expect(chunks('\ninvoice_2')).toEqual(['\ninvoice_', '_2']);
    expect(chunks('_65391.pdf\n')).toEqual(['_65391.', '.pdf\n']);
    expect(chunks('ab')).toEqual([]); // no trigram: pg_trgm cannot look it up
    expect(chunks('%_%')).toEqual([]);
  });

  it('looks up the chunks worth their posting lists: not the words nearly every name holds', () => {
    const l = JSON.stringify(lookupQuery(lit('scan 2026-10-06 (2).pdf'), SAMPLE));
    expect(l).not.toMatch(/2026|pdf/);
    expect(l).toMatch(/-06 /);
    // The trigrams of `.*_65391\.pdf`: `pdf`, `.pd`, `df\n` are in nearly every name.
    const q = regexQuery('.*_65391\\.pdf');
    const r = JSON.stringify(lookupQuery(q, SAMPLE));
    expect(r).not.toMatch(/pdf|\.pd|df\\n/);
    expect(r).toMatch(/653/);
    // Without a sample: the query itself.
    expect(lookupQuery(q, undefined)).toBe(q);
  });

  it('admits every name the whole query admits (random patterns and needles)', () => {
    let seed = 77;
    const r = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
    const parts = ['scan', ' ', '2026', '-', '10', '_', 'pdf', '.', 'inv', 'oice', '0', '(2)', 'img', 'x'];
    let checked = 0;
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(parts)).join('');
      const names = [text, `a${text}b`, `${text.toUpperCase()}.PDF`, ...SAMPLE.slice(0, 10)];
      const re = `.*${text.replace(/[.()\\[\]{}*+?^$|]/g, (c) => `\\${c}`)}${pick(['', '.*', '\\.pdf', '_\\d+'])}`;
      for (const q of [containsQuery(text), regexQuery(re)]) {
        const l = lookupQuery(q, SAMPLE);
        for (const name of names)
          if (admits(q, name)) {
            expect(admits(l, name), `${JSON.stringify(q)} -> ${JSON.stringify(l)} on ${name}`).toBe(true);
            checked++;
          }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
