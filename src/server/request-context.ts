import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import type { ServerLogger } from "./options.ts";

/** What every response carries, errors included. */
const securityHeaders: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** JSON needs no sources at all; the docs page sets its own, stricter-than-default policy. */
const defaultCsp =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Outermost middleware: gives the request an id (echoing a sane `X-Request-Id`), sets the
 * security headers on whatever response comes back, and logs the request without its
 * query string or headers (no credentials in logs).
 */
export function requestContext(logger: ServerLogger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId =
      incoming !== undefined && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    await next();
    const headers = c.res.headers;
    for (const [name, value] of Object.entries(securityHeaders)) headers.set(name, value);
    if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", defaultCsp);
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
    headers.set("X-Request-Id", requestId);
    const entry = {
      requestId,
      method: c.req.method,
      path: c.req.path.slice(0, 256),
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (c.res.status >= 500) logger.error(entry, "request");
    else logger.debug?.(entry, "request");
  };
}
