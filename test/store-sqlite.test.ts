import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../src/store-sqlite/sqlite-store.ts";
import { runStoreConformance } from "../src/testing/conformance.ts";

runStoreConformance({
  name: "sqlite",
  newStore: async () =>
    new SqliteStore(join(mkdtempSync(join(tmpdir(), "cairn-store-")), "store.db")),
});
