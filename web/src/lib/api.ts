/*
 * api.ts — the only door from the UI to the staff API (/v1/admin/…).
 *
 * The session: the access token (5 minutes) lives in memory only; the refresh
 * token in sessionStorage, so a reload in the same tab stays logged in and a
 * closed tab forgets it. A request refreshes the pair first when the access
 * token has under 30 s left, and once more on a 401 (the server's clock
 * decides). Refresh tokens rotate: one refresh at a time (a shared promise).
 *
 * Every failure is an ApiError carrying the server's stable error code
 * ("INSUFFICIENT_FUNDS", "FORBIDDEN", …), its HTTP status and message, so a
 * page shows what the server said and never guesses.
 */

export interface Tokens {
  access_token: string;
  access_expires_at: string;
  refresh_token: string | null;
  refresh_expires_at: string | null;
  session_id: string;
  staff_id: string;
  scope: 'full' | 'setup';
  must_change_password: boolean;
  totp_enrollment_required: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

const REFRESH_KEY = 'pitboss.refresh';

let tokens: Tokens | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

/** Called when the session changes (login, refresh failure, logout). */
export function onSessionChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

function notify() {
  for (const f of listeners) f();
}

export function currentTokens(): Tokens | null {
  return tokens;
}

/** Keeps a login's or refresh's token pair. */
export function setTokens(t: Tokens | null) {
  tokens = t;
  if (t?.refresh_token) sessionStorage.setItem(REFRESH_KEY, t.refresh_token);
  else sessionStorage.removeItem(REFRESH_KEY);
  notify();
}

export function hasStoredSession(): boolean {
  return sessionStorage.getItem(REFRESH_KEY) !== null;
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorOf(res: Response, body: unknown): ApiError {
  const b = (body ?? {}) as { error?: { code?: string; message?: string } | string; message?: string; code?: string };
  const err = typeof b.error === 'object' && b.error ? b.error : undefined;
  const code = err?.code ?? (typeof b.error === 'string' ? b.error : undefined) ?? b.code ?? `HTTP_${res.status}`;
  const message = err?.message ?? b.message ?? res.statusText ?? code;
  return new ApiError(res.status, code, message, body);
}

/** Exchanges the stored refresh token for a new pair; false when there is none or it was refused. */
export function refresh(): Promise<boolean> {
  if (refreshing) return refreshing;
  const rt = tokens?.refresh_token ?? sessionStorage.getItem(REFRESH_KEY);
  if (!rt) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch('/v1/admin/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: rt }),
      });
      if (!res.ok) {
        setTokens(null);
        return false;
      }
      setTokens((await res.json()) as Tokens);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** The Authorization header value, refreshing first when the access token is about to end. */
export async function authorization(): Promise<string | null> {
  if (tokens && tokens.scope === 'full' && Date.parse(tokens.access_expires_at) - Date.now() < 30_000)
    await refresh();
  if (!tokens && hasStoredSession()) await refresh();
  return tokens ? `Bearer ${tokens.access_token}` : null;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

/** A raw authorised fetch (CSV downloads, streams): retries once after a refresh on 401. */
export async function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const auth = await authorization();
    const headers = new Headers(init.headers);
    if (auth) headers.set('Authorization', auth);
    const res = await fetch(path, { ...init, headers });
    if (res.status === 401 && attempt === 0 && tokens?.refresh_token && (await refresh())) continue;
    return res;
  }
}

/** A JSON request to the API; resolves with the parsed body or throws ApiError. */
export async function api<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const res = await authFetch(withQuery(path, query), init);
  const parsed = await parse(res);
  if (!res.ok) throw errorOf(res, parsed);
  return parsed as T;
}

/** A POST whose body is sent as it is (a file the user picked) with its own Content-Type; JSON answer. */
export async function postRaw<T>(path: string, body: Blob | string, contentType: string, query?: Query): Promise<T> {
  const res = await authFetch(withQuery(path, query), {
    method: 'POST',
    body,
    headers: { 'Content-Type': contentType },
  });
  const parsed = await parse(res);
  if (!res.ok) throw errorOf(res, parsed);
  return parsed as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, undefined, query);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** Downloads a response as a file (CSV exports) with the session's authorisation. */
export async function download(path: string, query: Query | undefined, filename: string): Promise<void> {
  const res = await authFetch(withQuery(path, query));
  if (!res.ok) throw errorOf(res, await parse(res));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/* Lists answer {"<resource>": [...], "next_cursor": <opaque or null>}: pass next_cursor back
 * as ?cursor= for the next page; null means the end. */
