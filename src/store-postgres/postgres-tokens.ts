import type { Sql } from "postgres";
import type { NewTokenRecord, TokenRecord } from "../store/token-records.ts";
import { toToken } from "./rows.ts";
import { TokenReadCache } from "./token-read-cache.ts";

/**
 * API tokens: only hashes of secrets are stored. The HTTP server's `TokenStore` port, met
 * by shape (a store does not import the server). The two reads the server makes on every
 * request are answered from a {@link TokenReadCache}: a change made by another process takes
 * effect within its quarter of a second, one made here at once.
 */
export function postgresTokens(sql: () => Sql) {
  const cache = new TokenReadCache();
  /** A write to the tokens: remembered answers are forgotten once it has committed (or failed). */
  const writing = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } finally {
      cache.invalidate();
    }
  };
  return {
    create: (token: NewTokenRecord): Promise<void> =>
      writing(async () => {
        await sql()`INSERT INTO api_tokens (id, name, role, secret_hash, created_at, expires_at)
        VALUES (${token.id}, ${token.name}, ${token.role}, ${token.secretHash}, ${token.createdAt},
          ${token.expiresAt ?? null})`;
      }),
    touch: async (id: string, at: number): Promise<void> => {
      await sql()`UPDATE api_tokens SET last_used_at = ${at}
      WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < ${at})`;
    },
    list: async (): Promise<TokenRecord[]> =>
      (await sql()`SELECT * FROM api_tokens ORDER BY created_at, id`).map(toToken),
    revoke: (id: string, at: number): Promise<boolean> =>
      writing(
        async () =>
          (
            await sql()`UPDATE api_tokens SET revoked_at = ${at}
            WHERE id = ${id} AND revoked_at IS NULL`
          ).count > 0,
      ),
    findActiveByHash: (secretHash: string): Promise<TokenRecord | undefined> =>
      cache.byHash(secretHash, async () => {
        const [row] = await sql()`SELECT * FROM api_tokens
        WHERE secret_hash = ${secretHash} AND revoked_at IS NULL`;
        return row ? toToken(row) : undefined;
      }),
    anyActive: (): Promise<boolean> =>
      cache.anyActive(
        async () =>
          (await sql()`SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1`).length > 0,
      ),
  };
}
