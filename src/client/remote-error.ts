import { CairnError, type ErrorCode } from "../core/errors.ts";

/**
 * An error answer of a Cairn server, as a {@link CairnError} with the server's `code`: engine
 * codes (`RUN_NOT_FOUND`, `INVALID_INPUT`, …) as the embedded API throws them, and the HTTP
 * layer's own lower-case codes (`invalid_token`, `body_too_large`, …).
 */
export class RemoteCairnError extends CairnError {
  override name = "CairnError";
  /** The HTTP status. */
  readonly status: number;
  /** The problem's `type` URI. */
  readonly type: string;
  /** The server's request id, for its log. */
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { status: number; type?: string; requestId?: string },
  ) {
    super(code as ErrorCode, message);
    this.status = details.status;
    this.type = details.type ?? "about:blank";
    this.requestId = details.requestId;
  }
}

/** Turns a non-2xx response into a {@link RemoteCairnError}, problem+json or not. */
export async function errorFromResponse(response: Response): Promise<RemoteCairnError> {
  return errorFromAnswer(response.status, await response.text().catch(() => ""));
}

/** Turns a non-2xx status and its body into a {@link RemoteCairnError}, problem+json or not. */
export function errorFromAnswer(status: number, text: string): RemoteCairnError {
  let problem: {
    code?: unknown;
    detail?: unknown;
    title?: unknown;
    type?: unknown;
    requestId?: unknown;
  } = {};
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    // Not JSON (a proxy's error page): keep the status and the start of the text.
  }
  const code = typeof problem.code === "string" ? problem.code : `http_${status}`;
  const message =
    typeof problem.detail === "string"
      ? problem.detail
      : typeof problem.title === "string"
        ? problem.title
        : `HTTP ${status}: ${text.slice(0, 200)}`;
  return new RemoteCairnError(code, message, {
    status,
    ...(typeof problem.type === "string" ? { type: problem.type } : {}),
    ...(typeof problem.requestId === "string" ? { requestId: problem.requestId } : {}),
  });
}

/**
 * Why a request got no answer: `unreachable`, the connection never opened (refused, unknown
 * host), so the server did not get the request and it is safe to send it elsewhere;
 * `timeout`, no answer within `timeoutMs`; `broken`, the connection failed mid-request. After
 * `timeout` and `broken` the server may have acted on the request.
 */
export type UnavailableReason = "unreachable" | "timeout" | "broken";

/**
 * No answer from the server at all (as opposed to an error answer, a {@link RemoteCairnError}).
 * Its `code` is `server_unavailable`; the message names the URL and the cause.
 */
export class RemoteUnavailableError extends CairnError {
  override name = "CairnError";
  /** The server's base URL. */
  readonly url: string;
  readonly reason: UnavailableReason;

  constructor(url: string, reason: UnavailableReason, message: string, options?: ErrorOptions) {
    super("server_unavailable" as ErrorCode, message, options);
    this.url = url;
    this.reason = reason;
  }
}

// Error codes (undici's and Node's) of a connection that never opened.
const notConnected = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * The error `fetch` threw for a request to `url` (or one shaped like it: the network error
 * as its `cause`), as a {@link RemoteUnavailableError}; the caller's own abort is returned
 * as it is.
 */
export function unavailableError(
  url: string,
  error: unknown,
  timeoutMs: number | undefined,
): unknown {
  const name = (error as { name?: unknown }).name;
  if (name === "TimeoutError") {
    return new RemoteUnavailableError(
      url,
      "timeout",
      `The Cairn API at ${url} did not answer within ${timeoutMs} ms.`,
      { cause: error },
    );
  }
  if (name === "AbortError") return error;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  if (code !== undefined && notConnected.has(code)) {
    return new RemoteUnavailableError(
      url,
      "unreachable",
      `No Cairn API answers at ${url} (${code}).`,
      {
        cause: error,
      },
    );
  }
  const why = typeof cause?.message === "string" ? cause.message : String((error as Error).message);
  return new RemoteUnavailableError(
    url,
    "broken",
    `The request to the Cairn API at ${url} failed: ${why}${code ? ` (${code})` : ""}.`,
    { cause: error },
  );
}
