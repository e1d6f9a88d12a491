import type { Store } from "../store/store.ts";
import { toToken } from "./rows.ts";
import type { prepareStatements } from "./statements.ts";

/**
 * API tokens: only hashes of secrets are stored; writes go through the store's write lock.
 * `sql` is read at each call: the store prepares its statements after its fields exist.
 */
export function sqliteTokens(
  sql: () => ReturnType<typeof prepareStatements>,
  write: <T>(fn: () => T) => Promise<T>,
): Store["tokens"] {
  return {
    create: async (token) => {
      const { id, name, role, secretHash, createdAt, expiresAt } = token;
      await write(() =>
        sql().insertToken.run(id, name, role, secretHash, createdAt, expiresAt ?? null),
      );
    },
    touch: async (id, at) => {
      await write(() => sql().touchToken.run({ at, id }));
    },
    list: async () => sql().listTokens.all().map(toToken),
    revoke: async (id, at) => write(() => sql().revokeToken.run(at, id).changes > 0),
    findActiveByHash: async (secretHash) => {
      const row = sql().tokenByHash.get(secretHash);
      return row ? toToken(row) : undefined;
    },
    anyActive: async () => sql().anyActiveToken.get() !== undefined,
  };
}
