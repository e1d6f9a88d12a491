import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runStoreSuite } from "../src/store/conformance.ts";
import { runUiStoreSuite } from "../src/store/conformance-ui.ts";
import { SqliteStore } from "../src/store-sqlite/sqlite-store.ts";

runStoreSuite({
  name: "sqlite",
  newStore: async () =>
    new SqliteStore(join(mkdtempSync(join(tmpdir(), "cairn-store-")), "store.db")),
});

runUiStoreSuite({
  name: "sqlite",
  newStore: async () =>
    new SqliteStore(join(mkdtempSync(join(tmpdir(), "cairn-store-")), "store.db")),
});
