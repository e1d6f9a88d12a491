import type { Sql } from "postgres";
import type { NewTokenRecord, TokenRecord } from "../store/token-records.ts";
import { toToken } from "./rows.ts";

/**
 * API tokens: only hashes of secrets are stored. The HTTP server's `TokenStore` port, met
 * by shape (a store does not import the server).
 */
export function postgresTokens(sql: () => Sql) {
  return {
    create: async (token: NewTokenRecord): Promise<void> => {
      await sql()`INSERT INTO api_tokens (id, name, role, secret_hash, created_at, expires_at)
      VALUES (${token.id}, ${token.name}, ${token.role}, ${token.secretHash}, ${token.createdAt},
        ${token.expiresAt ?? null})`;
    },
    touch: async (id: string, at: number): Promise<void> => {
      await sql()`UPDATE api_tokens SET last_used_at = ${at}
      WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < ${at})`;
    },
    list: async (): Promise<TokenRecord[]> =>
      (await sql()`SELECT * FROM api_tokens ORDER BY created_at, id`).map(toToken),
    revoke: async (id: string, at: number): Promise<boolean> =>
      (
        await sql()`UPDATE api_tokens SET revoked_at = ${at}
      WHERE id = ${id} AND revoked_at IS NULL`
      ).count > 0,
    findActiveByHash: async (secretHash: string): Promise<TokenRecord | undefined> => {
      const [row] = await sql()`SELECT * FROM api_tokens
      WHERE secret_hash = ${secretHash} AND revoked_at IS NULL`;
      return row ? toToken(row) : undefined;
    },
    anyActive: async (): Promise<boolean> =>
      (await sql()`SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1`).length > 0,
  };
}
