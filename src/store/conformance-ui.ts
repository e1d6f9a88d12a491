import { expect } from "vitest";
import {
  describeStoreGroup,
  runId as id,
  newRun,
  type StoreSuiteOptions,
} from "./conformance-support.ts";
import type { JournalEntry, Store } from "./store.ts";
import type { NewLogEntry } from "./ui-store.ts";

/** The web UI's part of the store contract (migration 0005), run on every adapter. */
export function runUiStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("web UI", options, ({ store, test }) => {
    const line = (runId: string, extra: Partial<NewLogEntry> = {}): NewLogEntry => ({
      runId: id(runId),
      stepKey: "s",
      attempt: 1,
      level: "info",
      message: "hello",
      fields: null,
      at: 1000,
      truncated: false,
      ...extra,
    });

    test("appends log lines in order, pages them by seq and step, drops lines of unknown runs", async () => {
      await store().createRun(newRun("r1"));
      const seqs = await store().logs.append([
        line("r1", { message: "a", stepKey: null, attempt: null }),
        line("gone", { message: "lost" }),
        line("r1", { message: "b", level: "warn", fields: '{"n":1}' }),
        line("r1", { message: "c", stepKey: "t", truncated: true }),
      ]);
      expect(seqs[1]).toBeNull();
      const [a, , b, c] = seqs as number[];
      expect(a).toBeLessThan(b as number);
      expect(b).toBeLessThan(c as number);
      const all = await store().logs.list(id("r1"));
      expect(all.map((l) => [l.seq, l.message, l.stepKey, l.attempt])).toEqual([
        [a, "a", null, null],
        [b, "b", "s", 1],
        [c, "c", "t", 1],
      ]);
      expect(all[1]).toMatchObject({ level: "warn", fields: '{"n":1}', truncated: false });
      expect(all[2]?.truncated).toBe(true);
      expect((await store().logs.list(id("r1"), { afterSeq: a })).map((l) => l.message)).toEqual([
        "b",
        "c",
      ]);
      expect((await store().logs.list(id("r1"), { stepKey: "t" })).map((l) => l.message)).toEqual([
        "c",
      ]);
      expect((await store().logs.list(id("r1"), { limit: 1 })).map((l) => l.message)).toEqual([
        "a",
      ]);
      expect(await store().logs.append([])).toEqual([]);
    });

    test("lists live workers with the runs they hold, and forgets expired ones", async () => {
      const worker = {
        id: "w1",
        host: "h",
        pid: 1,
        queues: ["default"],
        workflows: ["wf"],
        concurrency: 5,
        startedAt: 1000,
        lastSeenAt: 1000,
        expiresAt: 2000,
      };
      await store().workers.beat(worker);
      await store().workers.beat({ ...worker, id: "w2", lastSeenAt: 1000, expiresAt: 1500 });
      await store().createRun(newRun("r1"));
      await store().claimRuns("w1", { workflows: ["wf"] }, 1000, 60_000, 1);
      const live = await store().workers.list(1600);
      expect(live.map((w) => [w.id, w.runs])).toEqual([["w1", ["r1"]]]);
      expect(live[0]).toMatchObject({ queues: ["default"], workflows: ["wf"], concurrency: 5 });
      await store().workers.beat({ ...worker, lastSeenAt: 1900, expiresAt: 3000 });
      expect((await store().workers.list(2500)).map((w) => [w.id, w.lastSeenAt])).toEqual([
        ["w1", 1900],
      ]);
      await store().workers.remove("w1");
      expect(await store().workers.list(2500)).toEqual([]);
    });

    test("records what an event started and woke", async () => {
      await store().eventRuns.record("e1", [id("a"), id("b")], [id("c")]);
      await store().eventRuns.record("e1", [id("a")], []);
      const links = await store().eventRuns.list(["e1", "e2"]);
      expect(links.get("e1")).toEqual({ started: ["a", "b"], woke: ["c"] });
      expect(links.get("e2")).toEqual({ started: [], woke: [] });
    });

    test("keeps tags and filters runs by tag and id prefix", async () => {
      await store().createRun(newRun("order-1", 1000));
      await store().createRun(newRun("order-2", 1001));
      await store().createRun(newRun("other-1", 1002));
      await store().tags.set(id("order-1"), { customer: "c1", region: "eu" });
      await store().tags.set(id("other-1"), { customer: "c1" });
      await store().tags.set(id("order-1"), { region: "us" });
      const tags = await store().tags.get([id("order-1"), id("order-2")]);
      expect(tags.get(id("order-1"))).toEqual({ customer: "c1", region: "us" });
      expect(tags.get(id("order-2"))).toEqual({});
      const ids = async (filter: Parameters<Store["listRuns"]>[0]) =>
        (await store().listRuns(filter)).map((r) => r.id);
      expect(await ids({ tags: [{ key: "customer", value: "c1" }] })).toEqual([
        "other-1",
        "order-1",
      ]);
      expect(
        await ids({
          tags: [
            { key: "customer", value: "c1" },
            { key: "region", value: "us" },
          ],
        }),
      ).toEqual(["order-1"]);
      expect(await ids({ idPrefix: "order-" })).toEqual(["order-2", "order-1"]);
      expect(await ids({ idPrefix: "order-%" })).toEqual([]);
    });

    test("creates a run with a copied journal in one go, and lists children", async () => {
      const entry: JournalEntry = {
        position: 0,
        key: "a",
        kind: "step",
        status: "completed",
        output: '{"json":"out"}',
        error: null,
        attempt: 2,
        startedAt: 1000,
        finishedAt: 1001,
        wakeAt: null,
        detail: null,
        seq: 1,
      };
      const run = await store().createRunWithJournal(newRun("copy"), [entry], { rerunOf: "orig" });
      expect(run).toMatchObject({ id: "copy", status: "queued" });
      expect(await store().getJournal(id("copy"))).toEqual([entry]);
      expect((await store().tags.get([id("copy")])).get(id("copy"))).toEqual({ rerunOf: "orig" });
      await expect(store().createRunWithJournal(newRun("copy"), [], {})).rejects.toMatchObject({
        code: "INVALID_STATE",
      });
      const [claimed] = await store().claimRuns("w", { workflows: ["wf"] }, 1000, 60_000, 1);
      expect(claimed?.run.id).toBe("copy");
      expect(claimed?.journalEmpty).not.toBe(true); // its worker must read the copied journal

      await store().createRun(newRun("kid-2", 1002, { parentId: id("copy"), parentPosition: 1 }));
      await store().createRun(newRun("kid-1", 1001, { parentId: id("copy"), parentPosition: 0 }));
      expect(await store().childRunIds(id("copy"))).toEqual(["kid-1", "kid-2"]);
    });
  });
}
