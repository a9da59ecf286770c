/** The view lives in the URL hash (`#/jobs?status=failed`), so any view can be bookmarked and shared. */
export interface Route {
  page: string;
  /** Path segments after the page (`#/jobs/job_123` → `['job_123']`). */
  rest: string[];
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const [page = 'overview', ...rest] = path.split('/').map((s) => decodeURIComponent(s));
  return { page: page || 'overview', rest, params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Navigate to a page with these parameters (empty values dropped). */
export function go(
  page: string,
  params: Record<string, string | string[] | undefined> | URLSearchParams,
): void {
  const p = new URLSearchParams();
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  for (const [k, v] of entries) for (const one of [v ?? []].flat()) if (one !== '') p.append(k, one);
  const qs = p.toString();
  location.hash = `#/${page}${qs ? `?${qs}` : ''}`;
}

/** A form's named fields as parameters (multi-line fields give one value per line). */
export function formParams(form: HTMLFormElement): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new FormData(form).entries()) {
    const values = String(v)
      .split(/\n/)
      .map((s) => s.trim())
      .filter((s) => s !== '');
    out[k] = [...(out[k] ?? []), ...values];
  }
  return out;
}
