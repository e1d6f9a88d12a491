import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Cairn } from "../../src/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { cli, fixtures, tempDir } from "./cli.ts";
import { versioned } from "./fixtures/replay-v1.ts";
import { approve, fail, greet } from "./fixtures/workflows/greet.ts";

// Each test spawns CLI processes; a loaded CI machine can make them slow.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

// Commands that work on the database directly: runs are recorded here in-process, then the
// CLI reads and changes them as a separate process would.
const dir = tempDir();
const db = ["--db", dir.db];
const json = <T>(text: string) => JSON.parse(text) as T;

beforeAll(async () => {
  const cairn = await Cairn.open({ db: dir.db, workflows: [greet, fail, approve, versioned] });
  await cairn.worker();
  await (await cairn.start(greet, { name: "Ada" }, { id: "g1" })).result();
  await (await cairn.start(fail, undefined, { id: "f1" })).result().catch(() => {});
  await (await cairn.start(versioned, undefined, { id: "v1" })).result();
  await cairn.start(approve, { id: "x" }, { id: "a1" });
  await waitForStatus(cairn, "a1", "waiting");
  await cairn.close();
});
afterAll(() => dir.remove());

describe("cairn migrate", () => {
  it("applies the migrations of a new database once and reports them", async () => {
    const fresh = `sqlite:${join(dir.path, "fresh.db")}`;
    const first = await cli(["migrate", "--db", fresh, "--json"]);
    expect(first.code).toBe(0);
    const applied = json<{ applied: string[]; migrations: string[] }>(first.stdout);
    expect(applied.applied).toContain("0001_init");
    expect(applied.applied).toEqual(applied.migrations);
    const again = await cli(["migrate", "--db", fresh]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("is up to date");
  });
});

describe("cairn runs", () => {
  it("lists runs with filters, as JSON and as a table", async () => {
    const [all, failed, table] = await Promise.all([
      cli(["runs", "list", "--json", ...db]),
      cli(["runs", "list", "--status", "failed", "--json", ...db]),
      cli(["runs", "list", "--workflow", "greet", ...db]),
    ]);
    expect(all.code).toBe(0);
    const ids = json<{ id: string }[]>(all.stdout).map((r) => r.id);
    expect(ids.sort()).toEqual(["a1", "f1", "g1", "v1"]);
    expect(json<{ id: string; status: string }[]>(failed.stdout)).toMatchObject([
      { id: "f1", status: "failed" },
    ]);
    expect(table.stdout).toMatch(/ID\s+WORKFLOW\s+STATUS/);
    expect(table.stdout).toMatch(/g1\s+greet\s+completed/);
    expect(table.stdout).not.toContain("f1");
  });

  it("shows a run's steps with attempts and its output or error", async () => {
    const [shown, text, failed, missing] = await Promise.all([
      cli(["runs", "show", "g1", "--json", ...db]),
      cli(["runs", "show", "g1", ...db]),
      cli(["runs", "show", "f1", ...db]),
      cli(["runs", "show", "nope", ...db]),
    ]);
    expect(shown.code).toBe(0);
    expect(json(shown.stdout)).toMatchObject({
      id: "g1",
      status: "completed",
      output: { message: "Hello, Ada!", attempts: 2 },
      steps: [
        { key: "hello", status: "completed", attempt: 1 },
        { key: "flaky", status: "completed", attempt: 2 },
      ],
    });
    expect(text.stdout).toMatch(/status\s+completed/);
    expect(text.stdout).toMatch(/flaky\s+step\s+completed\s+2/);
    expect(failed.stdout).toContain("error     NonRetryableError: boom on purpose");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No run with id "nope"');
  });

  it("cancels a waiting run and retries a failed one", async () => {
    const [cancel, retry] = await Promise.all([
      cli(["runs", "cancel", "a1", "--json", ...db]),
      cli(["runs", "retry", "f1", "--json", ...db]),
    ]);
    expect(cancel.code).toBe(0);
    expect(json(cancel.stdout)).toEqual({ id: "a1", status: "cancelled" });
    expect(retry.code).toBe(0);
    expect(json(retry.stdout)).toEqual({ id: "f1", status: "queued" });
    const again = await cli(["runs", "retry", "g1", ...db]);
    expect(again.code).toBe(2); // a completed run cannot be retried
  });

  it("replays a recorded run against code: consistent exits 0, diverged exits 1", async () => {
    const [same, changed, alias] = await Promise.all([
      cli(["runs", "replay", "v1", join(fixtures, "replay-v1.ts"), ...db]),
      cli(["runs", "replay", "v1", join(fixtures, "replay-v2.ts"), ...db]),
      cli(["replay", "v1", join(fixtures, "replay-v2.ts"), "--json", ...db]),
    ]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("consistent");
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain("DIVERGED at journal position 1");
    expect(changed.stdout).toMatch(/recorded: .*"b"/);
    expect(changed.stdout).toMatch(/code now: .*"c"/);
    expect(alias.code).toBe(1);
    expect(json(alias.stdout)).toMatchObject({
      runId: "v1",
      result: "diverged",
      divergence: { position: 1 },
    });
  });
});

describe("cairn run, without a server", () => {
  it("starts the run in the database named by --db", async () => {
    const started = await cli(["run", "greet", "--input", '{"name":"Bob"}', "--id", "g2", ...db]);
    expect(started.code).toBe(0);
    expect(started.stdout.trim()).toBe("g2");
    const shown = await cli(["runs", "show", "g2", "--json", ...db]);
    expect(json(shown.stdout)).toMatchObject({ status: "queued", input: { name: "Bob" } });
  });
});

describe("cairn events send", () => {
  it("accepts an event once per id", async () => {
    const args = ["events", "send", "approve", "--data", '{"id":"y"}', "--id", "e1", "--json"];
    const first = await cli([...args, ...db]);
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toMatchObject({ name: "approve", id: "e1", duplicate: false });
    const second = await cli([...args, ...db]);
    expect(json(second.stdout)).toMatchObject({ id: "e1", duplicate: true });
  });
});

describe("without an API", () => {
  it("falls back to the configured database, unless --url named the API", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const env = { CAIRN_URL: dead, CAIRN_DB: dir.db };
    const fallback = await cli(["events", "send", "approve", "--id", "e2", "--json"], { env });
    expect(fallback.code).toBe(0);
    expect(fallback.stderr).toContain(`No Cairn API answers at ${dead} (ECONNREFUSED)`);
    expect(json(fallback.stdout)).toMatchObject({ id: "e2", duplicate: false });
    const named = await cli(["events", "send", "approve", "--url", dead], { env });
    expect(named.code).toBe(1);
    expect(named.stderr).toContain("No Cairn API answers");
  });
});

describe("cairn tokens", () => {
  it("creates a token (secret printed once), lists it without secret, revokes it", async () => {
    const created = await cli(["tokens", "create", "--name", "ci", "--role", "operator", ...db]);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^cairn_/);
    const listed = await cli(["tokens", "list", "--json", ...db]);
    const tokens = json<{ id: string; name: string; role: string; revokedAt: string | null }[]>(
      listed.stdout,
    );
    expect(tokens).toMatchObject([{ name: "ci", role: "operator", revokedAt: null }]);
    expect(listed.stdout).not.toContain(secret);
    const id = tokens[0]?.id ?? "";
    const revoked = await cli(["tokens", "revoke", id, ...db]);
    expect(revoked.code).toBe(0);
    const again = await cli(["tokens", "revoke", id, ...db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`No active token with id "${id}"`);
  });
});

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
