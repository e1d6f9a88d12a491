import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Cairn } from "../src/index.ts";
import { limitedExport, ratedCall } from "./fixtures/limits-workflows.ts";
import { freshSchema } from "./support/postgres.ts";

const fixture = resolve(import.meta.dirname, "fixtures/limits-process.ts");
const dir = mkdtempSync(join(tmpdir(), "cairn-limits-"));
const ledger = join(dir, "ledger.jsonl");
let db = "";
let drop: () => Promise<void> = async () => {};
let workers: ChildProcess[] = [];

beforeAll(async () => {
  const base = inject("cairnTestPgUrl");
  const schema = await freshSchema(base);
  drop = schema.drop;
  db = `${base}${base.includes("?") ? "&" : "?"}schema=${schema.schema}`;
  writeFileSync(ledger, "");
  // Three worker processes on one PostgreSQL: limits must hold across them, not just within one.
  workers = await Promise.all(
    [0, 1, 2].map(() => {
      const child = fork(fixture, [], {
        env: { ...process.env, CAIRN_DB: db, LIMITS_LEDGER: ledger },
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "ignore", "inherit", "ipc"],
      });
      return new Promise<ChildProcess>((ok, fail) => {
        child.once("message", () => ok(child));
        child.once("exit", (code) => fail(new Error(`worker exited early (${code})`)));
      });
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const w of workers) w.kill("SIGTERM");
  await Promise.all(workers.map((w) => new Promise((r) => w.once("exit", r))));
  await drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("flow control across worker processes on PostgreSQL", () => {
  it("never runs more than the concurrency limit per key at once (overlap ledger)", async () => {
    const starter = await Cairn.open({ db, workflows: [limitedExport] });
    const runs = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        starter.start(limitedExport, { customer: i % 3 ? "a" : "b" }),
      ),
    );
    for (const run of runs) await run.result();
    await starter.close();
    const intervals = readFileSync(ledger, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { key: string; start: number; end: number; pid: number });
    expect(intervals).toHaveLength(24);
    // Most bodies of one key running at the same moment: a sweep over starts and ends.
    const maxOverlap = (key: string) => {
      const edges = intervals
        .filter((i) => i.key === key)
        .flatMap((i) => [
          { at: i.start, delta: 1 },
          { at: i.end, delta: -1 },
        ])
        .sort((x, y) => x.at - y.at || x.delta - y.delta); // an end before a start at the same ms
      let running = 0;
      let max = 0;
      for (const edge of edges) {
        running += edge.delta;
        max = Math.max(max, running);
      }
      return max;
    };
    expect(maxOverlap("a")).toBeLessThanOrEqual(2);
    expect(maxOverlap("b")).toBeLessThanOrEqual(2);
    // The work really was spread: more than one process ran it.
    expect(new Set(intervals.map((i) => i.pid)).size).toBeGreaterThan(1);
  }, 60_000);

  it("starts at most `limit` runs per period across processes", async () => {
    const starter = await Cairn.open({ db, workflows: [ratedCall] });
    const runs = await Promise.all(
      Array.from({ length: 9 }, () => starter.start(ratedCall, undefined)),
    );
    for (const run of runs) await run.result();
    const starts = (await starter.listRuns({ workflow: "rated-call", limit: 100 }))
      .map((r) => r.startedAt ?? 0)
      .sort((x, y) => x - y);
    await starter.close();
    expect(starts).toHaveLength(9);
    for (const [i, start] of starts.entries()) {
      const inWindow = starts.filter((s) => s >= start && s < start + 1000).length;
      expect(inWindow, `starts within 1 s of start #${i}`).toBeLessThanOrEqual(3);
    }
  }, 60_000);
});
