import type { NewTokenRecord, TokenRecord } from "../store/token-records.ts";
import { toToken } from "./rows.ts";
import type { prepareStatements } from "./statements.ts";

/**
 * API tokens: only hashes of secrets are stored; writes go through the store's write lock.
 * `sql` is read at each call: the store prepares its statements after its fields exist.
 * The HTTP server's `TokenStore` port, met by shape (a store does not import the server).
 */
export function sqliteTokens(
  sql: () => ReturnType<typeof prepareStatements>,
  write: <T>(fn: () => T) => Promise<T>,
) {
  return {
    create: async (token: NewTokenRecord): Promise<void> => {
      const { id, name, role, secretHash, createdAt, expiresAt } = token;
      await write(() =>
        sql().insertToken.run(id, name, role, secretHash, createdAt, expiresAt ?? null),
      );
    },
    touch: async (id: string, at: number): Promise<void> => {
      await write(() => sql().touchToken.run({ at, id }));
    },
    list: async (): Promise<TokenRecord[]> => sql().listTokens.all().map(toToken),
    revoke: async (id: string, at: number): Promise<boolean> =>
      write(() => sql().revokeToken.run(at, id).changes > 0),
    findActiveByHash: async (secretHash: string): Promise<TokenRecord | undefined> => {
      const row = sql().tokenByHash.get(secretHash);
      return row ? toToken(row) : undefined;
    },
    anyActive: async (): Promise<boolean> => sql().anyActiveToken.get() !== undefined,
  };
}
