import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { defineWorkflow } from "../../src/index.ts";
import { type RunningServer, startServer } from "../../src/server/index.ts";
import { createTestCairn, type TestCairn } from "../../src/testing/index.ts";
import { cli } from "./cli.ts";

// Each test spawns CLI processes; a loaded CI machine can make them slow.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const quick = defineWorkflow({ name: "quick" }, async (ctx) => ctx.step("one", () => 1));

// The server's test clock starts 90 days back and is moved to a day ago, so that runs it
// finishes are old by both its own clock (through the API) and the CLI's (in the database).
let t: TestCairn;
let server: RunningServer;
beforeAll(async () => {
  t = await createTestCairn({ workflows: [quick], start: Date.now() - 90 * 86_400_000 });
  server = await startServer(t.cairn, { port: 0 });
  for (const id of ["old-1", "old-2"]) await (await t.cairn.start(quick, 1, { id })).result();
  t.clock.advance("89d");
  await (await t.cairn.start(quick, 1, { id: "young" })).result();
});
afterAll(async () => {
  await server.close();
  await t.close();
});

const ids = async () => (await t.cairn.listRuns({})).map((r) => r.id).sort();

describe("cairn runs purge", () => {
  it("deletes finished runs older than --older-than through the API, and says how many", async () => {
    const result = await cli([
      "runs",
      "purge",
      "--older-than",
      "30d",
      "--url",
      server.url,
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as { purged: number; before: string };
    expect(printed.purged).toBe(2);
    expect(Date.parse(printed.before)).toBe(t.clock.now() - 30 * 86_400_000);
    expect(await ids()).toEqual(["young"]);
  });

  it("works on the database with --db, and refuses a bad duration with exit 2", async () => {
    const result = await cli(["runs", "purge", "--older-than", "12h", "--db", t.db]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Purged 1 finished run \(finished before \d{4}-/);
    expect(await ids()).toEqual([]);
    const bad = await cli(["runs", "purge", "--older-than", "soon", "--db", t.db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid --older-than "soon"');
  });
});
