/**
 * PostgreSQL's `text` cannot hold U+0000 (SQLite's can): a hostile or broken upstream string carrying one
 * would make its whole page fail, again at every retry, and the sync would never get past it. Such
 * characters are stored as U+FFFD (the replacement character) instead; JSON columns need nothing, since
 * JSON.stringify already writes them as the escape `\u0000`. The one place the stores then differ: a NUL in
 * a plain column (a filename, a metadata value) reads back as U+FFFD here.
 */
export function pgText<T>(value: T): T {
  return (
    typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value
  ) as T;
}
