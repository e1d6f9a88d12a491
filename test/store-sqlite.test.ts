import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { TokenStore } from "../src/server/token-store.ts";
import { newRun, type TokenStoreUnderTest } from "../src/store/conformance-support.ts";
import { SqliteStore } from "../src/store-sqlite/sqlite-store.ts";
import { runStoreConformance } from "../src/testing/conformance.ts";

// Every store of this file is a file in one temporary folder, removed at the end: a folder
// per store left about a hundred behind in the temporary directory per run.
const dir = mkdtempSync(join(tmpdir(), "cairn-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let stores = 0;

runStoreConformance({
  name: "sqlite",
  newStore: async () => new SqliteStore(join(dir, `store-${++stores}.db`)),
  // Typed as the server's port: the store provides it by shape alone.
  tokens: (store): TokenStore => store.tokens,
});

describe("the token group of the conformance suite", () => {
  it("names every member of the server's token port (a member it lacked would go untested)", () => {
    // Fails to compile when TokenStore gains a member that the suite's copy lacks.
    const covered: Exclude<keyof TokenStore, keyof TokenStoreUnderTest> extends never
      ? true
      : false = true;
    expect(covered).toBe(true);
  });
});

describe("in-memory SQLite stores", () => {
  it("open migrated from the process's first one, each with its own data", async () => {
    const first = new SqliteStore(":memory:");
    await first.createRun(newRun("only-in-first"));
    // Opened from the image the first one left: migrated, yet sharing none of its rows.
    const second = new SqliteStore(":memory:");
    try {
      expect((await second.migrations()).map((m) => m.id)).toEqual(
        (await first.migrations()).map((m) => m.id),
      );
      expect(await second.getRun(newRun("only-in-first").id)).toBeUndefined();
      await second.createRun(newRun("only-in-second"));
      expect(await first.getRun(newRun("only-in-second").id)).toBeUndefined();
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe("SQLite retention", () => {
  it("deletes the idempotency key a purged run held", async () => {
    const path = join(dir, `store-${++stores}.db`);
    const store = new SqliteStore(path);
    const keys = () => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM run_idempotency").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    try {
      await store.createRun(newRun("a", 1000, { idempotency: { key: "k", ttlMs: 1e9 } }));
      const [claimed] = await store.claimRuns("w", { workflows: ["wf"] }, 1000, 60_000, 1);
      if (!claimed) throw new Error("the run was not claimed");
      const { run, token } = claimed;
      await store.commit([{ type: "complete", runId: run.id, token, output: "{}", at: 1100 }]);
      expect(keys()).toBe(1);
      expect(await store.deleteFinishedRuns(5000)).toBe(1);
      expect(keys()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
