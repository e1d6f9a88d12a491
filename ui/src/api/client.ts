import { clearToken, getToken } from "./token-store.ts";

/** An API failure with the server's problem+json detail, or status 0 when unreachable. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Fired on `window` when the server refuses our token (or wants one): the app shows sign-in. */
export const unauthorizedEvent = "cairn:unauthorized";

export function authHeaders(token = getToken()): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Use this token instead of the stored one (the sign-in page tries a token first). */
  token?: string;
}

/** Calls `/api/v1…` and returns its JSON; throws {@link ApiError} with the server's words. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    ...authHeaders(options.token ?? getToken()),
  };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", "Cannot reach the Cairn server. Is it running?");
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const problem = (body ?? {}) as { code?: string; detail?: string; title?: string };
    const error = new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      problem.detail ?? problem.title ?? `${response.status} ${response.statusText}`,
    );
    if (response.status === 401 && options.token === undefined) {
      clearToken();
      window.dispatchEvent(new CustomEvent(unauthorizedEvent, { detail: error.message }));
    }
    throw error;
  }
  return body as T;
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

export const runPath = (id: string) => `/api/v1/runs/${encodeURIComponent(id)}`;

/** True when the server answered that the route itself does not exist (an older server). */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && /No route for/.test(error.message);
}
