import type { Cairn } from "../../src/sdk/cairn.ts";
import type { TokenStore } from "../../src/server/token-store.ts";
import { PostgresStore } from "../../src/store-postgres/postgres-store.ts";
import { SqliteStore } from "../../src/store-sqlite/sqlite-store.ts";

/**
 * The API tokens of the bundled store an engine opened, for the server a test builds over
 * it: tokens are the server's port, not part of `Store`, so they are taken from the store
 * itself (the CLI opens the store and passes `store.tokens` the same way).
 */
export function tokensOf(cairn: Cairn): TokenStore {
  const { store } = cairn;
  if (store instanceof SqliteStore || store instanceof PostgresStore) return store.tokens;
  throw new Error("This engine's store is not a bundled one: it keeps no API tokens.");
}
