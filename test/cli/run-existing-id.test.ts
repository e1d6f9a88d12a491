import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Harness, sqliteEngine, startHarness } from "../server/harness.ts";
import { cli } from "./cli.ts";

// Each test spawns CLI processes; a loaded CI machine can make them slow.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

// One server over one SQLite file: `--url` starts through its API, `--db` in the database.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ engine: sqliteEngine });
});
afterAll(async () => {
  await h.close();
});

const ada = '{"name":"Ada"}';
const bob = '{"name":"Bob"}';

describe.each([
  ["through the API", () => ["--url", h.url]],
  ["in the database", () => ["--db", h.db]],
])("cairn run --id with an id that exists, %s", (where, target) => {
  const id = `greet-${where.replaceAll(" ", "-")}`;

  it("returns the run for the same input (exit 0) and refuses another input (exit 2)", async () => {
    const first = await cli(["run", "greet", "--id", id, "--input", ada, ...target()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(id);

    const same = await cli(["run", "greet", "--id", id, "--input", ada, ...target()]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout.trim()).toBe(id);
    expect(same.stderr).toContain(`run ${id} already exists with this input`);

    const other = await cli(["run", "greet", "--id", id, "--input", bob, "--json", ...target()]);
    expect(other.code).toBe(2);
    expect(JSON.parse(other.stdout)).toEqual({ id, created: false, inputMatches: false });
    expect(other.stderr).toContain(
      `error: run ${id} already exists with a different input; nothing was started`,
    );
    expect((await h.cairn.getRun(id)).input).toEqual({ name: "Ada" });
  });

  it("does not follow the other input's run with --wait", async () => {
    const taken = `${id}-wait`;
    await h.cairn.start("greet", { name: "Ada" }, { id: taken });
    const other = await cli(["run", "greet", "--id", taken, "--input", bob, "--wait", ...target()]);
    expect(other.code).toBe(2);
    expect(other.stdout.trim()).toBe(taken);
    expect(other.stderr).toContain("already exists with a different input");
  });
});
