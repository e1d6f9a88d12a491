import { afterAll } from "vitest";
import { runStoreSuite } from "../src/store/conformance.ts";
import { PostgresStore } from "../src/store-postgres/postgres-store.ts";
import { freshSchema, testDatabaseUrl } from "./support/postgres.ts";

const url = await testDatabaseUrl();
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((drop) => drop()));
});

/** A store on a schema of its own. */
async function newStore(options: { schema?: string; max?: number } = {}): Promise<PostgresStore> {
  let schema = options.schema;
  if (!schema) {
    const fresh = await freshSchema(url);
    drops.push(fresh.drop);
    schema = fresh.schema;
  }
  return PostgresStore.open({ url, schema, max: options.max ?? 4 });
}

runStoreSuite({ name: "postgres", newStore: () => newStore() });
