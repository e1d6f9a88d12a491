import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { CairnError } from "../core/errors.ts";
import type { AppEnv } from "./app-env.ts";
import type { ServerLogger } from "./options.ts";
import {
  HttpProblem,
  isProblemCode,
  type ProblemBody,
  type ProblemCode,
  problemBody,
  problemTable,
} from "./problems.ts";

/** Writes a problem+json response; every error the API returns goes through here. */
export function problemResponse(
  c: Context<AppEnv>,
  code: ProblemCode,
  detail: string,
  headers: Record<string, string> = {},
  errors?: readonly string[],
): Response {
  const body: ProblemBody & { errors?: readonly string[] } = problemBody(code, detail, {
    instance: c.req.path.slice(0, 512),
    requestId: c.get("requestId"),
  });
  // A rejected flow document lists each error on its own (path: message).
  if (errors) body.errors = errors;
  return c.body(JSON.stringify(body), problemTable[code].status as 400, {
    ...headers,
    "Content-Type": "application/problem+json",
  });
}

/**
 * `app.onError`: known errors become their documented status; anything else is a 500 whose
 * detail names the request id, never the stack, which goes to the log instead.
 */
export function errorHandler(logger: ServerLogger) {
  return (error: Error, c: Context<AppEnv>): Response => {
    if (error instanceof HttpProblem) {
      return problemResponse(c, error.code, error.message, error.headers);
    }
    // Only Cairn's own errors (CairnError.is) with a code of the table are deliberate answers.
    if (CairnError.is(error) && isProblemCode(error.code)) {
      if (problemTable[error.code].status < 500) {
        const errors = (error as { errors?: unknown }).errors;
        const list = Array.isArray(errors) ? errors.map(String) : undefined;
        return problemResponse(c, error.code, error.message, {}, list);
      }
      if (error.code === "CLOSED") return problemResponse(c, "CLOSED", error.message);
      if (error.code === "STORAGE_FULL" || error.code === "STORE_UNAVAILABLE") {
        // The message names the database file: for the operator's log, not for callers.
        logger.error(
          { err: error, requestId: c.get("requestId"), method: c.req.method, path: c.req.path },
          "request failed: the database cannot take writes",
        );
        return problemResponse(c, error.code, storeDetail[error.code], { "Retry-After": "5" });
      }
    }
    if (error instanceof HTTPException && error.status < 500) {
      return fromHttpException(c, error);
    }
    logger.error(
      { err: error, requestId: c.get("requestId"), method: c.req.method, path: c.req.path },
      "request failed",
    );
    return problemResponse(
      c,
      "internal",
      `The server failed to handle this request; its log has the details under request id ${c.get("requestId") ?? "unknown"}.`,
    );
  };
}

/** What callers are told of a database that cannot write; nothing was written. */
const storeDetail = {
  STORAGE_FULL:
    "The database's storage is full: nothing of this request was written. Retry once space is freed; the server recovers by itself.",
  STORE_UNAVAILABLE:
    "The database cannot take writes right now (locked, read-only or unreachable): nothing of this request was written. Retry later.",
};

/** Hono's own 4xx errors (e.g. from its validators) in our vocabulary. */
function fromHttpException(c: Context<AppEnv>, error: HTTPException): Response {
  switch (error.status) {
    case 400:
      return /json/i.test(error.message)
        ? problemResponse(c, "invalid_json", "The request body is not valid JSON.")
        : problemResponse(c, "invalid_request", error.message || "Bad request.");
    case 413:
      return problemResponse(c, "body_too_large", "The request body is over the size limit.");
    case 415:
      return problemResponse(
        c,
        "invalid_json",
        'The request body must be JSON, sent with "Content-Type: application/json".',
      );
    case 404:
      return problemResponse(c, "not_found", `No route for ${c.req.method} ${c.req.path}.`);
    default:
      return problemResponse(c, "invalid_request", error.message || "Bad request.");
  }
}

/** `app.notFound`: unknown paths and methods, in problem+json like everything else. */
export function notFoundHandler(c: Context<AppEnv>): Response {
  return problemResponse(
    c,
    "not_found",
    `No route for ${c.req.method} ${c.req.path.slice(0, 256)}. The API is described at /api/openapi.json.`,
  );
}
