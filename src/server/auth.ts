import type { MiddlewareHandler } from "hono";
import type { Cairn } from "../sdk/cairn.ts";
import type { AppEnv, Principal } from "./app-env.ts";
import { HttpProblem } from "./problems.ts";
import type { TokenRole, TokenStore } from "./token-store.ts";
import type { TokenUsage } from "./token-usage.ts";
import { hashesEqual, hashSecret, roleAllows, tokenExpired, tokenSecretPattern } from "./tokens.ts";

/**
 * Who may call a route. `public`: anyone who passed the Host/Origin checks (health, docs).
 * `webhook`: no bearer token, the route verifies a signature itself. A role: a bearer token
 * of that role or a stronger one (admin ⊃ operator ⊃ viewer).
 */
export type Policy = "public" | "webhook" | TokenRole;

export interface AuthContext {
  /** Its clock dates requests against tokens' expiry. */
  cairn: Cairn;
  tokens: Pick<TokenStore, "anyActive" | "findActiveByHash">;
  /** The server listens on loopback only; auth is then off until a token exists. */
  loopbackOnly: boolean;
  /** Records tokens' last use (coalesced); none: not recorded. */
  usage?: TokenUsage;
}

const challenge = (error?: string) => ({
  "WWW-Authenticate": error ? `Bearer realm="cairn", error="${error}"` : 'Bearer realm="cairn"',
});

/** The principal of requests when auth is off: loopback and no token configured. */
const localAdmin: Principal = { id: "local", name: "local (auth off)", role: "admin" };

/**
 * Route middleware enforcing `policy`. Auth is required when the server listens beyond
 * loopback or any active token exists (asked of the token store per request, so the first
 * token created by `cairn tokens create` takes effect at once: on SQLite at the next request,
 * on PostgreSQL within the quarter of a second its store may reuse an answer). A presented
 * token is always verified, even when auth is off, so a stale or mistyped token never passes
 * silently.
 */
export function authorize(policy: Policy, auth: AuthContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (policy === "public" || policy === "webhook") return next();
    const header = c.req.header("authorization");
    if (header === undefined) {
      const required = !auth.loopbackOnly || (await auth.tokens.anyActive());
      if (required) {
        throw new HttpProblem(
          "missing_token",
          'This route needs a bearer token: send "Authorization: Bearer <token>" (create one with `cairn tokens create`).',
          challenge(),
        );
      }
      c.set("principal", localAdmin);
      return next();
    }
    const principal = await verifyBearer(header, auth);
    if (!roleAllows(principal.role, policy)) {
      throw new HttpProblem(
        "insufficient_role",
        `Token "${principal.name}" has role ${principal.role}; ${c.req.method} ${c.req.routePath} needs ${policy} or above.`,
      );
    }
    c.set("principal", principal);
    return next();
  };
}

/**
 * Checks an `Authorization` header: exactly `Bearer <secret>` (one space, the scheme as
 * RFC 6750 writes it; variants are refused rather than guessed at), a well-formed secret,
 * and an active token whose stored hash equals the secret's, compared in constant time.
 */
async function verifyBearer(
  header: string,
  { cairn, tokens, usage }: AuthContext,
): Promise<Principal> {
  // Checked before any regex or hash so a huge header costs nothing.
  if (header.length > 200 || !header.startsWith("Bearer ")) {
    throw new HttpProblem(
      "invalid_token",
      'The Authorization header must be exactly "Bearer <token>".',
      challenge("invalid_request"),
    );
  }
  const secret = header.slice("Bearer ".length);
  if (!tokenSecretPattern.test(secret)) {
    throw new HttpProblem(
      "invalid_token",
      'The bearer token is malformed: Cairn tokens look like "cairn_" followed by 43 characters.',
      challenge("invalid_token"),
    );
  }
  const hash = hashSecret(secret);
  const record = await tokens.findActiveByHash(hash);
  if (!record || !hashesEqual(record.secretHash, hash)) {
    throw new HttpProblem(
      "invalid_token",
      "The bearer token is unknown or revoked.",
      challenge("invalid_token"),
    );
  }
  const now = cairn.clock.now();
  if (tokenExpired(record, now)) {
    throw new HttpProblem(
      "invalid_token",
      `The bearer token "${record.name}" expired at ${new Date(record.expiresAt ?? now).toISOString()}: create a new one with \`cairn tokens create\`.`,
      challenge("invalid_token"),
    );
  }
  usage?.record(record, now);
  return { id: record.id, name: record.name, role: record.role };
}
