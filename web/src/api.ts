/** Calls to the local server: the token (when the server requires one) rides in a header, never in a URL. */
const TOKEN_KEY = 'retab-mirror-token';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function authHeaders(): Record<string, string> {
  const t = token.get();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { detail?: unknown };
    const d = body.detail;
    if (typeof d === 'string') message = d;
    else if (Array.isArray(d))
      message = d
        .map((x: { msg?: string; loc?: unknown[] }) => `${(x.loc ?? []).join('.')}: ${x.msg}`)
        .join('; ');
    else if (d && typeof d === 'object' && 'message' in d)
      message = String((d as { message: unknown }).message);
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) window.dispatchEvent(new CustomEvent('unauthorized'));
  throw new ApiError(res.status, message);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    headers: { accept: 'application/json', ...authHeaders() },
    ...(signal ? { signal } : {}),
  });
  return (await check(res)).json() as Promise<T>;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
  });
  return (await check(res)).json() as Promise<T>;
}

/** Download a response as a file (a plain link could not carry the token). */
export async function download(path: string, filename: string): Promise<void> {
  const res = await check(await fetch(path, { headers: authHeaders() }));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
