import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunId } from "../../src/core/types.ts";
import { SqliteStore } from "../../src/store-sqlite/sqlite-store.ts";
import { cli, tempDir } from "./cli.ts";

const dir = tempDir();
afterAll(() => dir.remove());
beforeAll(async () => {
  // A run that continued as new (the store's `continue` op, as ctx.continueAsNew writes it).
  const store = new SqliteStore(dir.db.slice("sqlite:".length));
  try {
    const id = (s: string) => s as RunId;
    await store.createRun({
      id: id("loop"),
      workflow: "loop",
      input: '{"json":1}',
      createdAt: 1000,
    });
    const [claimed] = await store.claimRuns("w", { workflows: ["loop"] }, 1000, 60_000, 1);
    await store.commit([
      {
        type: "continue",
        runId: id("loop"),
        token: claimed?.token ?? 0,
        successor: { id: id("loop~2"), workflow: "loop", input: '{"json":2}', createdAt: 2000 },
        at: 2000,
      },
    ]);
  } finally {
    await store.close();
  }
}, 60_000);

describe("cairn runs show", () => {
  it("links a run that continued as new to the next run of its chain, and back", async () => {
    const first = await cli(["runs", "show", "loop", "--db", dir.db]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("next      loop~2 (this run continued as new)");
    expect(first.stdout).toContain("output    none: the chain's result is its last run's");
    const next = await cli(["runs", "show", "loop~2", "--db", dir.db]);
    expect(next.stdout).toContain("previous  loop (this run continues it)");
    const json = await cli(["runs", "show", "loop", "--db", dir.db, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ continuedFrom: null, continuedTo: "loop~2" });
  });
});
