import { afterAll, describe, expect, it } from "vitest";
import { freshSchema, testDatabaseUrl } from "../../test/support/postgres.ts";
import { newRun, runId, stepEntry } from "../store/conformance-support.ts";
import type { RunRecord } from "../store/run-records.ts";
import type { SetOp as JournalOp } from "../store/store.ts";
import { commitFinishes, UnlinkedRuns } from "./commit-one-statement.ts";
import { PostgresStore } from "./postgres-store.ts";

const url = await testDatabaseUrl();
const stores: PostgresStore[] = [];
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const store of stores) await store.close();
  for (const drop of drops) await drop();
});

async function openStore(): Promise<PostgresStore> {
  const schema = await freshSchema(url);
  drops.push(schema.drop);
  const store = await PostgresStore.open({ url, schema: schema.schema, max: 2 });
  stores.push(store);
  return store;
}

const claim = { owner: "w1", leaseUntil: 60_000 };

function finish(run: RunRecord, position: number): JournalOp[] {
  const token = run.fencingToken;
  return [
    { type: "entry", runId: run.id, token, entry: stepEntry(position, `s${position}`) },
    { type: "complete", runId: run.id, token, output: '{"json":1}', at: 2000 },
  ];
}

describe("a batch that finishes unlinked runs, in one statement", () => {
  it("writes the entries and the finish, fenced, with the results of the long path", async () => {
    const store = await openStore();
    const { run } = await store.createRun(newRun("a"), claim);
    const stale = [{ ...finish(run, 0)[1], token: run.fencingToken + 1 }] as JournalOp[];
    expect(await commitFinishes(store.sql, [...stale, ...finish(run, 0)])).toEqual([
      { ok: false, reason: "fenced", status: "running" },
      { ok: true },
      { ok: true, status: "completed" },
    ]);
    expect(await store.getRun(run.id)).toMatchObject({ status: "completed", output: '{"json":1}' });
    expect(await store.getJournal(run.id)).toMatchObject([{ position: 0, key: "s0" }]);
    // The run stopped running: a second finish is fenced and writes nothing.
    expect(await commitFinishes(store.sql, finish(run, 1))).toEqual([
      { ok: false, reason: "fenced", status: "completed" },
      { ok: false, reason: "fenced", status: "completed" },
    ]);
    expect(await store.getJournal(run.id)).toHaveLength(1);
  });

  it("writes nothing for a child or a run under a concurrency limit: the long path takes it", async () => {
    const store = await openStore();
    const { run: parent } = await store.createRun(newRun("parent"), claim);
    const child = (
      await store.createRun(
        newRun("child", 1000, { parentId: parent.id, parentPosition: 0, depth: 1 }),
        claim,
      )
    ).run;
    const limited = (
      await store.createRun(newRun("limited", 1000, { concurrency: { key: "k", limit: 1 } }), claim)
    ).run;
    for (const run of [child, limited]) {
      // Both shapes: one step and its finish (commit-one-step.ts), and a longer batch.
      const longer = [
        { type: "entry", runId: run.id, token: run.fencingToken, entry: stepEntry(1, "s1") },
        ...finish(run, 0),
      ] as JournalOp[];
      for (const batch of [finish(run, 0), longer]) {
        expect(await commitFinishes(store.sql, batch)).toBeUndefined();
      }
      expect(await store.getRun(run.id)).toMatchObject({ status: "running" });
      expect(await store.getJournal(run.id)).toEqual([]);
    }
    // The store never sends them there (a claim told it), and its commit finishes them.
    for (const run of [child, limited]) {
      expect(await store.commit(finish(run, 0))).toEqual([
        { ok: true },
        { ok: true, status: "completed" },
      ]);
    }
    expect(await store.getRun(runId("limited"))).toMatchObject({ status: "completed" });
  });

  it("is the store's path for the runs it claimed unlinked, and only for those", async () => {
    const store = await openStore();
    // The general path opens a transaction; one statement does not. postgres.js reports every
    // statement it sends to `options.debug`.
    const begun: string[] = [];
    store.sql.options.debug = (_connection, query) => {
      if (query.startsWith("BEGIN")) begun.push(query);
    };
    const { run } = await store.createRun(newRun("plain"), claim);
    await store.createRun(newRun("queued"));
    const [claimed] = await store.claimRuns("w1", { workflows: ["wf"] }, 2000, 60_000, 1);
    // A run a `cairn server` started, taken by the admission that admits it.
    await store.createRun(newRun("started-elsewhere", 1000, { admitted: false }));
    const admission = { fields: {}, delayMs: 0 };
    const {
      claimed: [admitted],
    } = await store.admitRuns([{ id: runId("started-elsewhere"), admission, claim }], 2000);
    for (const finished of [run, claimed?.run, admitted?.run]) {
      if (!finished) throw new Error("the queued run was not claimed");
      expect(await store.commit(finish(finished, 0))).toEqual([
        { ok: true },
        { ok: true, status: "completed" },
      ]);
    }
    expect(begun).toHaveLength(0);
    const { run: child } = await store.createRun(
      newRun("child", 1000, { parentId: run.id, parentPosition: 1, depth: 1 }),
      claim,
    );
    await store.commit(finish(child, 0));
    expect(begun).toHaveLength(1);
  });

  it("takes only batches of entries, completions and failures", async () => {
    const store = await openStore();
    const { run } = await store.createRun(newRun("r"), claim);
    const release: JournalOp = {
      type: "release",
      runId: run.id,
      token: run.fencingToken,
      at: 2000,
    };
    expect(await commitFinishes(store.sql, [release])).toBeUndefined();
    expect(await store.getRun(run.id)).toMatchObject({ status: "running" });
  });
});

describe("UnlinkedRuns", () => {
  const record = (id: string, extra: Partial<RunRecord> = {}) =>
    ({ id: runId(id), parentId: null, concurrencyLimit: null, ...extra }) as RunRecord;
  const complete = (id: string): JournalOp => ({
    type: "complete",
    runId: runId(id),
    token: 1,
    output: "{}",
    at: 1,
  });

  it("covers a batch when every run it stops was claimed unlinked, until it stops", () => {
    const runs = new UnlinkedRuns();
    runs.note([record("a"), record("child", { parentId: runId("p") })]);
    runs.note([record("limited", { concurrencyLimit: 2 })]);
    const entryOfOther: JournalOp = {
      type: "entry",
      runId: runId("other"),
      token: 1,
      entry: stepEntry(0, "s"),
    };
    expect(runs.covers([entryOfOther, complete("a")])).toBe(true);
    expect(runs.covers([complete("a"), complete("child")])).toBe(false);
    expect(runs.covers([complete("limited")])).toBe(false);
    runs.forgetStopped([entryOfOther, complete("a")]);
    expect(runs.covers([complete("a")])).toBe(false);
  });

  it("starts over past its capacity", () => {
    const runs = new UnlinkedRuns(2);
    runs.note([record("a"), record("b"), record("c")]);
    expect(runs.covers([complete("a")])).toBe(false);
    expect(runs.covers([complete("c")])).toBe(true);
  });
});
