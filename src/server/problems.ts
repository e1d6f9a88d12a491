import type { ErrorCode } from "../core/errors.ts";

/** Codes of errors the HTTP layer raises itself (lower-case, as the API documents them). */
export type HttpProblemCode =
  | "invalid_json"
  | "too_deep"
  | "invalid_request"
  | "invalid_cursor"
  | "invalid_meta"
  | "body_too_large"
  | "headers_too_large"
  | "request_timeout"
  | "missing_token"
  | "invalid_token"
  | "token_in_query"
  | "invalid_signature"
  | "replayed_signature"
  | "insufficient_role"
  | "forbidden_host"
  | "forbidden_origin"
  | "not_found"
  | "not_ready"
  | "internal";

/** Every `code` a problem response can carry. */
export type ProblemCode = ErrorCode | HttpProblemCode;

interface ProblemKind {
  status: number;
  title: string;
}

/**
 * THE table from error codes to HTTP statuses. Engine codes come first and the
 * `satisfies` clause makes a new `ErrorCode` fail the build until it is mapped here.
 */
export const problemTable = {
  RUN_NOT_FOUND: { status: 404, title: "Run not found" },
  NOT_FOUND: { status: 404, title: "Not found" },
  WORKFLOW_NOT_FOUND: { status: 404, title: "Workflow not found" },
  INVALID_INPUT: { status: 422, title: "Input rejected by the workflow's schema" },
  INVALID_ARGUMENT: { status: 400, title: "Invalid argument" },
  INVALID_CONFIG: { status: 400, title: "Unknown or malformed option" },
  FLOW_INVALID: { status: 422, title: "Invalid flow document" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  SERIALIZATION: { status: 422, title: "Value cannot be serialized" },
  INVALID_STATE: { status: 409, title: "Run is in the wrong state" },
  RUN_NOT_ACTIVE: { status: 409, title: "Run is not active" },
  RUN_CANCELLED: { status: 409, title: "Run was cancelled" },
  NON_DETERMINISM: { status: 409, title: "Workflow code diverged from the journal" },
  LEASE_LOST: { status: 409, title: "Lease lost" },
  MAX_DEPTH_EXCEEDED: { status: 422, title: "Child workflow depth exceeded" },
  LIMIT_EXCEEDED: { status: 422, title: "Request over a limit" },
  CLOSED: { status: 503, title: "Engine is closed" },
  // Run outcomes: recorded on runs, never thrown by an API call. One escaping is a bug.
  NON_RETRYABLE: { status: 500, title: "Internal error" },
  RETRYABLE: { status: 500, title: "Internal error" },
  STEP_TIMEOUT: { status: 500, title: "Internal error" },
  RUN_TIMEOUT: { status: 500, title: "Internal error" },
  RUN_FAILED: { status: 500, title: "Internal error" },
  POISON_RUN: { status: 500, title: "Internal error" },
  UNAWAITED_CALL: { status: 500, title: "Internal error" },
  CONTEXT_IN_STEP: { status: 500, title: "Internal error" },

  invalid_json: { status: 400, title: "Body is not a JSON document" },
  too_deep: { status: 400, title: "JSON nested too deeply" },
  invalid_request: { status: 400, title: "Request does not match the API schema" },
  invalid_cursor: { status: 400, title: "Invalid pagination cursor" },
  invalid_meta: { status: 400, title: "Invalid serializer metadata" },
  body_too_large: { status: 413, title: "Request body too large" },
  headers_too_large: { status: 431, title: "Request line or headers too large" },
  request_timeout: { status: 408, title: "Request not received in time" },
  missing_token: { status: 401, title: "Authentication required" },
  invalid_token: { status: 401, title: "Invalid token" },
  token_in_query: { status: 401, title: "Token in the query string" },
  invalid_signature: { status: 401, title: "Invalid webhook signature" },
  replayed_signature: { status: 401, title: "Webhook signature already used" },
  insufficient_role: { status: 403, title: "Role not allowed" },
  forbidden_host: { status: 403, title: "Host not allowed" },
  forbidden_origin: { status: 403, title: "Origin not allowed" },
  not_found: { status: 404, title: "Not found" },
  not_ready: { status: 503, title: "Not ready" },
  STORE_UNAVAILABLE: { status: 503, title: "Database unavailable" },
  STORAGE_FULL: { status: 503, title: "Storage full" },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<ProblemCode, ProblemKind>;

/** An error the HTTP layer raises on purpose; `onError` turns it into problem+json. */
export class HttpProblem extends Error {
  override name = "HttpProblem";
  readonly code: ProblemCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: ProblemCode, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.code = code;
    this.status = problemTable[code].status;
    this.headers = headers;
  }
}

/** An RFC 9457 problem document. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
  requestId?: string;
}

/** The `type` URI of a code: an anchor of the API docs page, which lists every code. */
export function problemType(code: ProblemCode): string {
  return `/api/docs#problem-${code}`;
}

export function isProblemCode(code: unknown): code is ProblemCode {
  return typeof code === "string" && Object.hasOwn(problemTable, code);
}

/** A problem document for `code`; `detail` says what was wrong and where. */
export function problemBody(
  code: ProblemCode,
  detail: string,
  extra: { instance?: string; requestId?: string } = {},
): ProblemBody {
  const { status, title } = problemTable[code];
  return { type: problemType(code), title, status, detail, code, ...extra };
}
