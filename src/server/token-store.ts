import type { NewTokenRecord, TokenRecord } from "../store/token-records.ts";

export type { NewTokenRecord, TokenRecord, TokenRole } from "../store/token-records.ts";

/**
 * Where the HTTP server keeps its API tokens: a port of the server's own, not a part of the
 * engine's `Store` (no worker or engine duty reads tokens). Whoever builds the server passes
 * one to `createApp`/`startServer`; the bundled SQLite and PostgreSQL stores provide one as
 * their `tokens` member (they satisfy this interface structurally, without importing it).
 * Only hashes of secrets are kept. Times are ms since the epoch, given by the caller.
 */
export interface TokenStore {
  create(token: NewTokenRecord): Promise<void>;
  /** Records a use at `at` (never moving it backwards). */
  touch(id: string, at: number): Promise<void>;
  /** Every token, active and revoked, oldest first. */
  list(): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when no such active token exists. */
  revoke(id: string, at: number): Promise<boolean>;
  /** The active (not revoked) token with this secret hash, if any. */
  findActiveByHash(secretHash: string): Promise<TokenRecord | undefined>;
  /** True when any active token exists: the server then requires auth even on loopback. */
  anyActive(): Promise<boolean>;
}

const tokenMethods = ["create", "touch", "list", "revoke", "findActiveByHash", "anyActive"];

/**
 * The token store a server uses: the one given, else the engine's store's own `tokens`
 * member (the bundled stores have one).
 * @throws TypeError when neither exists: a server without tokens could not check a caller.
 */
export function serverTokens(given: TokenStore | undefined, store: object): TokenStore {
  if (given) return given;
  const own = (store as { tokens?: Record<string, unknown> }).tokens;
  if (own && tokenMethods.every((method) => typeof own[method] === "function")) {
    return own as unknown as TokenStore;
  }
  throw new TypeError(
    "This engine's store keeps no API tokens: pass the server a token store (`tokens` option).",
  );
}
