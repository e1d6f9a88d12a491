import type { Sql } from "postgres";
import type { Store } from "../store/store.ts";
import { toToken } from "./rows.ts";

/** API tokens: only hashes of secrets are stored. */
export function postgresTokens(sql: () => Sql): Store["tokens"] {
  return {
    create: async (token) => {
      await sql()`INSERT INTO api_tokens (id, name, role, secret_hash, created_at)
      VALUES (${token.id}, ${token.name}, ${token.role}, ${token.secretHash}, ${token.createdAt})`;
    },
    list: async () => (await sql()`SELECT * FROM api_tokens ORDER BY created_at, id`).map(toToken),
    revoke: async (id, at) =>
      (
        await sql()`UPDATE api_tokens SET revoked_at = ${at}
      WHERE id = ${id} AND revoked_at IS NULL`
      ).count > 0,
    findActiveByHash: async (secretHash) => {
      const [row] = await sql()`SELECT * FROM api_tokens
      WHERE secret_hash = ${secretHash} AND revoked_at IS NULL`;
      return row ? toToken(row) : undefined;
    },
    anyActive: async () =>
      (await sql()`SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1`).length > 0,
  };
}
