import { networkInterfaces } from "node:os";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { isLoopbackHost, normalizeHostname, type ResolvedOptions } from "./options.ts";
import { HttpProblem } from "./problems.ts";

const wildcardHosts = new Set(["", "0.0.0.0", "::", "::0", "[::]"]);

/**
 * Host names the server answers to: loopback names, the listen address (every interface
 * address when listening on a wildcard) and `allowedHosts`. Anything else in a `Host` header
 * is a DNS-rebinding attempt (a page on evil.example whose name now resolves to 127.0.0.1).
 */
export function allowedHostnames(options: ResolvedOptions): (hostname: string) => boolean {
  const names = new Set<string>([...options.allowedHosts, normalizeHostname(options.host)]);
  if (wildcardHosts.has(options.host.trim())) {
    for (const list of Object.values(networkInterfaces())) {
      for (const address of list ?? []) names.add(normalizeHostname(address.address));
    }
  }
  return (hostname) => isLoopbackHost(hostname) || names.has(normalizeHostname(hostname));
}

/** 403 unless both the `Host` header and the request URL's host are ours. */
export function hostGuard(isAllowed: (hostname: string) => boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("host");
    const urlHost = new URL(c.req.url).host;
    for (const host of header === undefined ? [urlHost] : [header, urlHost]) {
      if (!isAllowed(host)) {
        throw new HttpProblem(
          "forbidden_host",
          `Host "${host.slice(0, 100)}" is not served here; add it to allowedHosts (--allowed-hosts) if it should be.`,
        );
      }
    }
    return next();
  };
}

const corsHeaders =
  "Authorization, Content-Type, X-Cairn-Event-Id, X-Cairn-Signature, Last-Event-ID";

/**
 * Cross-site request defence. A request carrying an `Origin` must come from the server's
 * own origin or one of `allowedOrigins` (CORS); others get 403 before any handler runs, and
 * so do their preflights. Without `Origin`, a browser's `Sec-Fetch-Site: cross-site` is
 * refused too, except plain navigations (a link to the docs page).
 */
export function originGuard(allowedOrigins: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(allowedOrigins);
  return async (c, next) => {
    const origin = c.req.header("origin");
    const method = c.req.method;
    if (origin === undefined) {
      const site = c.req.header("sec-fetch-site");
      const navigate = c.req.header("sec-fetch-mode") === "navigate" && method === "GET";
      if (site === "cross-site" && !navigate) {
        throw new HttpProblem("forbidden_origin", "Cross-site requests are not allowed.");
      }
      if (method === "OPTIONS") return c.body(null, 204, { Allow: "GET, HEAD, POST, OPTIONS" });
      return next();
    }
    const normalized = origin.trim().toLowerCase();
    const crossAllowed = allowed.has(normalized);
    if (
      !crossAllowed &&
      !isSameOrigin(normalized, c.req.header("host") ?? new URL(c.req.url).host)
    ) {
      throw new HttpProblem(
        "forbidden_origin",
        `Origin "${origin.slice(0, 100)}" may not call this API; add it to allowedOrigins (--allowed-origins) to allow it.`,
      );
    }
    if (method === "OPTIONS") {
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Allow-Headers": corsHeaders,
        "Access-Control-Max-Age": "600",
        Vary: "Origin",
      });
    }
    await next();
    if (crossAllowed) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", "Location, X-Request-Id");
      c.res.headers.append("Vary", "Origin");
    }
  };
}

function isSameOrigin(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // `null` (sandboxed frames, file://) and garbage
  }
  return (url.protocol === "http:" || url.protocol === "https:") && url.host === host.toLowerCase();
}

/** A Cairn secret anywhere in a value (see `tokenSecretPattern`). */
const tokenInText = /cairn_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/;

const queryTokenNames = new Set([
  "token",
  "access_token",
  "api_key",
  "apikey",
  "auth",
  "authorization",
  "bearer",
]);

/**
 * 401 for a token in the query string, even a valid one: URLs end up in logs, browser
 * history and Referer headers, so the API never accepts credentials there.
 */
export function queryTokenGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const query = c.req.url.indexOf("?");
    if (query !== -1) {
      const params = new URLSearchParams(c.req.url.slice(query + 1));
      for (const [name, value] of params) {
        if (queryTokenNames.has(name.toLowerCase()) || tokenInText.test(value)) {
          throw new HttpProblem(
            "token_in_query",
            `Credentials are not accepted in the query string (parameter "${name.slice(0, 50)}"); send "Authorization: Bearer <token>" instead, and revoke a token that was put in a URL.`,
          );
        }
      }
    }
    return next();
  };
}
