/**
 * Upstream items that failed validation, kept with the reason instead of being dropped silently. Written by
 * applyPage in the transaction of the page they came with.
 */
import type { RejectedItem } from '../retab/index.ts';
import type { Mirror } from './openMirror.ts';
import { newestFirst } from './partitionLog.ts';
import { prepared } from './prepared.ts';
import { quarantine } from './schema.ts';
import type { PartitionLogOptions, QuarantineRow } from './store.ts';

/** Raw items are kept up to this many UTF-8 bytes (1 MiB); longer ones are cut (and no longer parse). */
export const QUARANTINE_RAW_MAX_BYTES = 1024 * 1024;

const INSERT_QUARANTINE = `INSERT INTO quarantine (job_id, partition, reason, issues, raw, observed_at)
  VALUES (?, ?, ?, ?, ?, ?)`;

function stringifySafely(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular structures or BigInt: keep something readable rather than lose the item.
    return String(value);
  }
}

/** Cut `text` to at most `maxBytes` UTF-8 bytes. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // Fast path: even at 3 bytes per UTF-16 unit it fits.
  if (text.length * 3 <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  let end = maxBytes;
  // Do not split a multi-byte character: back up to its first byte.
  while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}

export type QuarantineWriter = (item: RejectedItem, partition: string | null, observedAt: number) => void;

export function quarantineWriter(mirror: Mirror): QuarantineWriter {
  const stmt = prepared(mirror, INSERT_QUARANTINE);
  return (item, partition, observedAt) => {
    stmt.run(
      item.id,
      partition,
      item.reason,
      stringifySafely(item.issues),
      truncateUtf8(stringifySafely(item.raw), QUARANTINE_RAW_MAX_BYTES),
      observedAt,
    );
  };
}

/** Quarantined items, newest first. */
export function listQuarantine(mirror: Mirror, opts: PartitionLogOptions = {}): QuarantineRow[] {
  return newestFirst(mirror, quarantine, opts, 100);
}
