/**
 * BullMQ job ids may not contain `:` nor be all digits. Each part is escaped injectively (`%` → `%25`,
 * `:` → `%3A`, `/` → `%2F`) and parts are joined with `/`, so any (sink, event id) maps to one stable,
 * valid job id; an all-digit result gets a leading `%` (no escaped string starts with `%` + digit + digit).
 */
export function queueJobId(...parts: string[]): string {
  const id = parts
    .map((p) => p.replaceAll('%', '%25').replaceAll(':', '%3A').replaceAll('/', '%2F'))
    .join('/');
  return /^\d+$/.test(id) ? `%${id}` : id;
}
