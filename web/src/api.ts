/**
 * The page's only network access: its own server's `/api` (the CSP allows nothing else). Adds the
 * access token when the server needs one; the token lives in this tab's sessionStorage only.
 */
import type { ScreenResult } from '../../src/workflows/screen/result.ts';
import type { ApiErrorResponse, HealthResponse, ModelInfo } from '../../src/server/api-types.ts';

const TOKEN_KEY = 'phenoface.token';

/** An API failure with the server's code and message (and per-photo records on 422). */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly body?: ApiErrorResponse, readonly retryAfterSec?: number) {
    super(message);
  }
}

/** Takes a token from `#token=...` in the address (then removes it from the address bar). */
export function adoptTokenFromHash(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search + location.hash.replace(/[#&]?token=[^&]+/, '').replace(/^$/, '#/'));
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(): HeadersInit {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function request<T>(method: string, path: string, body?: FormData): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { method, body, headers: headers(), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiFailure(0, 'E_NETWORK', 'The Phenoface server cannot be reached. Is `phenoface serve` still running?');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiFailure(res.status, 'E_INTERNAL', `The server answered ${res.status} without JSON.`);
  }
  if (!res.ok) {
    const err = json as ApiErrorResponse;
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiFailure(res.status, err.error?.code ?? 'E_INTERNAL', err.error?.message ?? `HTTP ${res.status}`, err, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return json as T;
}

export const api = {
  health: () => request<HealthResponse>('GET', '/api/health'),
  model: () => request<ModelInfo & { contract: 1 }>('GET', '/api/model'),
  screen(files: File[]): Promise<ScreenResult> {
    const form = new FormData();
    for (const f of files) form.append('photos', f, f.name);
    return request<ScreenResult>('POST', '/api/screen?explain=true', form);
  },
};
