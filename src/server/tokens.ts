import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";
import { CairnError } from "../core/errors.ts";
import { checkName } from "../core/names.ts";
import type { TokenRecord, TokenRole, TokenStore } from "./token-store.ts";

/** Roles from least to most powerful: each includes every role before it. */
export const roles: readonly TokenRole[] = ["viewer", "operator", "admin"];

/** True when `role` may do what `needed` may. */
export function roleAllows(role: TokenRole, needed: TokenRole): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}

/** What a secret looks like: `cairn_` and 43 base64url characters (32 random bytes). */
export const tokenSecretPattern = /^cairn_[A-Za-z0-9_-]{43}$/;

/** SHA-256 of a secret, hex: the only form the store keeps. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * Compares two hex hashes in constant time. Lookups go by hash through an index, so this is
 * the last check that the stored record really belongs to the presented secret.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}

/** A token as listed: never its secret or the secret's hash. */
export interface TokenInfo {
  id: string;
  name: string;
  role: TokenRole;
  createdAt: Date;
  revokedAt: Date | null;
  /** The last request made with it, to within a minute (uses are recorded coalesced). */
  lastUsedAt: Date | null;
  /** When it stops working; null: never. */
  expiresAt: Date | null;
}

/** True when the token's expiry has passed at `now` (ms). */
export function tokenExpired(record: Pick<TokenRecord, "expiresAt">, now: number): boolean {
  return record.expiresAt !== null && now >= record.expiresAt;
}

/**
 * Creates an API token and returns its secret, the only time it is ever visible: the store
 * keeps its SHA-256 hash. Once any active token exists, the server requires auth even on
 * loopback.
 * `clock` dates it: pass the engine's (the server checks expiry by it).
 * @example const { secret } = await createToken(tokens, cairn.clock, { name: "ci", role: "operator" });
 * @throws CairnError `INVALID_ARGUMENT` for an empty name or unknown role.
 */
export async function createToken(
  tokens: Pick<TokenStore, "create">,
  clock: Clock,
  options: {
    name: string;
    role: TokenRole /** Lifetime, e.g. `"30d"`; none: never expires. */;
    expiresIn?: Duration;
  },
): Promise<TokenInfo & { secret: string }> {
  const { name, role, expiresIn } = options;
  let lifetimeMs: number | undefined;
  try {
    lifetimeMs = expiresIn === undefined ? undefined : toMs(expiresIn, "token expiry");
  } catch (error) {
    throw new CairnError("INVALID_ARGUMENT", (error as Error).message);
  }
  if (lifetimeMs !== undefined && lifetimeMs <= 0) {
    throw new CairnError(
      "INVALID_ARGUMENT",
      `A token's expiry must be in the future, got "${expiresIn}".`,
    );
  }
  if (typeof name !== "string" || name.trim() === "" || name.length > 200) {
    throw new CairnError("INVALID_ARGUMENT", "A token needs a name of 1 to 200 characters.");
  }
  checkName("token name", name, 200);
  if (!roles.includes(role)) {
    throw new CairnError(
      "INVALID_ARGUMENT",
      `Unknown role "${String(role)}"; use one of ${roles.join(", ")}.`,
    );
  }
  const secret = `cairn_${randomBytes(32).toString("base64url")}`;
  // One reading of the clock: two could straddle a millisecond, and a "30d" token would
  // live 30 days and 1 ms.
  const now = clock.now();
  const record = {
    id: `tok_${randomBytes(8).toString("hex")}`,
    name,
    role,
    secretHash: hashSecret(secret),
    createdAt: now,
    expiresAt: lifetimeMs === undefined ? null : now + lifetimeMs,
  };
  await tokens.create(record);
  return { ...toInfo({ ...record, revokedAt: null, lastUsedAt: null }), secret };
}

/** Every token, active and revoked, oldest first. */
export async function listTokens(tokens: Pick<TokenStore, "list">): Promise<TokenInfo[]> {
  return (await tokens.list()).map(toInfo);
}

/**
 * Revokes a token by id, or by name when exactly one active token has it. Requests with it
 * fail from the next one on. Returns false when no such active token exists.
 * @throws CairnError `INVALID_ARGUMENT` when a name matches several active tokens.
 */
export async function revokeToken(
  tokens: Pick<TokenStore, "list" | "revoke">,
  clock: Clock,
  idOrName: string,
): Promise<boolean> {
  const active = (await tokens.list()).filter((t) => t.revokedAt === null);
  let target = active.find((t) => t.id === idOrName);
  if (!target) {
    const named = active.filter((t) => t.name === idOrName);
    if (named.length > 1) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `${named.length} active tokens are named "${idOrName}"; revoke one by id (${named.map((t) => t.id).join(", ")}).`,
      );
    }
    target = named[0];
  }
  if (!target) return false;
  return tokens.revoke(target.id, clock.now());
}

function toInfo(record: TokenRecord): TokenInfo {
  const date = (ms: number | null) => (ms === null ? null : new Date(ms));
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    createdAt: new Date(record.createdAt),
    revokedAt: date(record.revokedAt),
    lastUsedAt: date(record.lastUsedAt),
    expiresAt: date(record.expiresAt),
  };
}
