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
  const text = await response.text().catch(() => "");
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
  const code = typeof problem.code === "string" ? problem.code : `http_${response.status}`;
  const message =
    typeof problem.detail === "string"
      ? problem.detail
      : typeof problem.title === "string"
        ? problem.title
        : `HTTP ${response.status}: ${text.slice(0, 200)}`;
  return new RemoteCairnError(code, message, {
    status: response.status,
    ...(typeof problem.type === "string" ? { type: problem.type } : {}),
    ...(typeof problem.requestId === "string" ? { requestId: problem.requestId } : {}),
  });
}
