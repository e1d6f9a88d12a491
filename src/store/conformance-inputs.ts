import { expect } from "vitest";
import {
  claimOne,
  describeStoreGroup,
  newRun,
  runId,
  type StoreSuiteOptions,
} from "./conformance-support.ts";
import type { JournalEntry, WaitRegistration } from "./store.ts";

/**
 * What comes from outside a run: events and the workflows they trigger, signals, the
 * workflow registry, admission of runs started without the code, paused workflows.
 */
/** Every flow-control field an admission sets… */
const flowFields = {
  queue: "q",
  priority: 5,
  concurrency: { key: "k", limit: 2 },
  rateLimit: { key: "r", limit: 3, periodMs: 1000 },
  deadlineAt: 9000,
};

/** …and the row it makes, admitted at 2000 with a 500 ms delay. */
const admittedRow = {
  admitted: true,
  status: "queued",
  queue: "q",
  priority: 5,
  concurrencyKey: "k",
  concurrencyLimit: 2,
  rateKey: "r",
  rateLimit: 3,
  ratePeriodMs: 1000,
  deadlineAt: 9000,
  availableAt: 2500,
  updatedAt: 2000,
};

export function runInputStoreSuite(options: StoreSuiteOptions): void {
  describeStoreGroup("events, signals, registry", options, ({ store, test }) => {
    const suspend = async (id: string, waits: WaitRegistration[], at = 1000) => {
      const token = await claimOne(store(), id, at);
      const [result] = await store().commit([
        { type: "suspend", runId: runId(id), token, waits, availableAt: null, at },
      ]);
      return result;
    };
    const eventWait = (
      position: number,
      event: string,
      timeoutAt: number | null = null,
    ): WaitRegistration => ({
      kind: "event",
      position,
      key: `${event}-${position}`,
      event,
      match: null,
      timeoutAt,
    });
    const data = (value: unknown) => JSON.stringify({ json: value });

    test("an event creates the runs it triggers, once, with the event", async () => {
      await store().createRun(newRun("exists", 900, { workflow: "t" }));
      const sent = await store().sendEvent(
        { id: "e1", name: "order.paid", data: data({ n: 1 }), createdAt: 1000 },
        [newRun("t-1", 1000, { workflow: "t" }), newRun("exists", 1000, { workflow: "t" })],
      );
      expect(sent).toEqual({ accepted: true, duplicate: false, woke: [], started: ["t-1"] });
      expect(await store().getRun(runId("t-1"))).toMatchObject({ status: "queued", workflow: "t" });
      expect((await store().getRun(runId("exists")))?.createdAt).toBe(900);
      // A duplicate event starts nothing, even runs of other ids.
      const again = await store().sendEvent(
        { id: "e1", name: "order.paid", data: data({ n: 1 }), createdAt: 1100 },
        [newRun("t-2", 1100, { workflow: "t" })],
      );
      expect(again).toEqual({ accepted: true, duplicate: true, woke: [], started: [] });
      expect(await store().getRun(runId("t-2"))).toBeUndefined();
    });

    test("an event wakes every run waiting for it, one wait per run", async () => {
      await store().createRun(newRun("a"));
      await store().createRun(newRun("b"));
      await suspend("a", [eventWait(0, "go"), eventWait(1, "go")]);
      await suspend("b", [eventWait(0, "go")]);
      const sent = await store().sendEvent({ id: "e", name: "go", data: null, createdAt: 1500 });
      expect([...sent.woke].sort()).toEqual(["a", "b"]);
      const journal = await store().getJournal(runId("a"));
      expect(journal.map((e) => [e.position, e.status])).toEqual([
        [0, "completed"],
        [1, "waiting"],
      ]);
      expect((await store().getRun(runId("b")))?.status).toBe("queued");
      // The second wait of "a" takes the next event.
      const next = await store().sendEvent({ id: "e2", name: "go", data: null, createdAt: 1600 });
      expect(next.woke).toEqual(["a"]);
    });

    test("a wait's timeout resolves it to null at the claim; a later event finds nothing", async () => {
      await store().createRun(newRun("r"));
      const token = await claimOne(store(), "r");
      await store().commit([
        {
          type: "suspend",
          runId: runId("r"),
          token,
          waits: [
            eventWait(0, "go", 5000),
            { kind: "signal", position: 1, key: "s", signal: "s", timeoutAt: 5000 },
          ],
          availableAt: 5000,
          at: 1000,
        },
      ]);
      expect(await store().claimRuns("w", { workflows: ["wf"] }, 4999, 1000, 1)).toEqual([]);
      const [again] = await store().claimRuns("w", { workflows: ["wf"] }, 5000, 1000, 1);
      expect(again?.run.id).toBe("r");
      const journal = await store().getJournal(runId("r"));
      expect(journal.map((e) => [e.position, e.status, e.output, e.finishedAt])).toEqual([
        [0, "completed", '{"json":null}', 5000],
        [1, "completed", '{"json":null}', 5000],
      ]);
      const late = await store().sendEvent({ id: "late", name: "go", data: null, createdAt: 5001 });
      expect(late.woke).toEqual([]);
      expect(await store().sendSignal(runId("r"), "s", null, 5001)).toEqual({ woke: false });
    });

    test("events are listed newest first, by name, with a keyset cursor", async () => {
      for (const [i, name] of ["a", "b", "a", "a"].entries()) {
        await store().sendEvent({ id: `e${i}`, name, data: data(i), createdAt: 1000 + i });
      }
      await store().sendEvent({ id: "e9", name: "b", data: null, createdAt: 1001 }); // same time as e1
      const all = await store().listEvents({});
      expect(all.map((e) => e.id)).toEqual(["e3", "e2", "e9", "e1", "e0"]);
      expect(all[0]).toEqual({ id: "e3", name: "a", data: data(3), createdAt: 1003 });
      expect((await store().listEvents({ name: "a", limit: 2 })).map((e) => e.id)).toEqual([
        "e3",
        "e2",
      ]);
      const after = await store().listEvents({ before: { createdAt: 1001, id: "e9" } });
      expect(after.map((e) => e.id)).toEqual(["e1", "e0"]);
      expect(
        (await store().listEvents({ name: "b", before: { createdAt: 1001, id: "e9" } })).map(
          (e) => e.id,
        ),
      ).toEqual(["e1"]);
    });

    test("event triggers are replaced per workflow and found by event", async () => {
      expect(await store().eventTriggers("paid")).toEqual([]);
      await store().setEventTriggers(
        "ship",
        [
          { event: "paid", condition: "" },
          { event: "paid", condition: "data.total > 100" },
          { event: "refunded", condition: "" },
        ],
        1000,
      );
      await store().setEventTriggers("bill", [{ event: "paid", condition: "" }], 1000);
      // By workflow; one workflow's conditions in no promised order.
      const paid = await store().eventTriggers("paid");
      expect(paid.map((t) => t.workflow)).toEqual(["bill", "ship", "ship"]);
      expect(paid.map((t) => `${t.workflow}:${t.condition}`).sort()).toEqual([
        "bill:",
        "ship:",
        "ship:data.total > 100",
      ]);
      // Replacing drops what is no longer declared; a repeated trigger is kept once.
      await store().setEventTriggers(
        "ship",
        [
          { event: "shipped", condition: "" },
          { event: "shipped", condition: "" },
        ],
        2000,
      );
      expect(await store().eventTriggers("paid")).toEqual([{ workflow: "bill", condition: "" }]);
      expect(await store().eventTriggers("refunded")).toEqual([]);
      expect(await store().eventTriggers("shipped")).toEqual([{ workflow: "ship", condition: "" }]);
      await store().setEventTriggers("ship", [], 3000);
      expect(await store().eventTriggers("shipped")).toEqual([]);
    });

    test("a signal sent to a waiting run resolves its wait and wakes it", async () => {
      await store().createRun(newRun("r"));
      await suspend("r", [
        { kind: "signal", position: 0, key: "s", signal: "go", timeoutAt: null },
      ]);
      expect(await store().sendSignal(runId("r"), "other", null, 1100)).toEqual({ woke: false });
      expect((await store().getRun(runId("r")))?.status).toBe("waiting");
      expect(await store().sendSignal(runId("r"), "go", '{"json":"x"}', 1200)).toEqual({
        woke: true,
      });
      expect(await store().getRun(runId("r"))).toMatchObject({
        status: "queued",
        availableAt: 1200,
      });
      expect((await store().getJournal(runId("r")))[0]).toMatchObject({
        status: "completed",
        output: '{"json":"x"}',
        finishedAt: 1200,
      });
      // The wait is gone: the next signal is buffered, not handed to it.
      expect(await store().sendSignal(runId("r"), "go", null, 1300)).toEqual({ woke: false });
    });

    test("signals to unknown or finished runs are refused", async () => {
      await expect(store().sendSignal(runId("nope"), "go", null, 1000)).rejects.toMatchObject({
        code: "RUN_NOT_FOUND",
      });
      await store().createRun(newRun("done"));
      const token = await claimOne(store(), "done");
      await store().commit([
        { type: "complete", runId: runId("done"), token, output: "{}", at: 1 },
      ]);
      await expect(store().sendSignal(runId("done"), "go", null, 1000)).rejects.toMatchObject({
        code: "RUN_NOT_ACTIVE",
      });
    });

    test("the registry records the workflows processes run, with the last time seen", async () => {
      expect(await store().listWorkflows()).toEqual([]);
      await store().registerWorkflows([], 500);
      await store().registerWorkflows(["b", "a"], 1000);
      await store().registerWorkflows(["b", "c", "c"], 2000);
      expect(await store().listWorkflows()).toEqual([
        { name: "a", seenAt: 1000 },
        { name: "b", seenAt: 2000 },
        { name: "c", seenAt: 2000 },
      ]);
    });

    test("runs started without their code wait for admission, oldest first", async () => {
      const pending = (extra = {}) => ({ admitted: false, ...extra });
      await store().createRun(newRun("p2", 1002, pending()));
      await store().createRun(newRun("p1", 1001, pending()));
      await store().createRun(newRun("other", 1000, pending({ workflow: "other" })));
      await store().createRun(newRun("normal", 1000));
      expect((await store().getRun(runId("p1")))?.admitted).toBe(false);
      expect((await store().pendingAdmission(["wf"], 10)).map((r) => r.id)).toEqual(["p1", "p2"]);
      expect((await store().pendingAdmission(["wf", "other"], 2)).map((r) => r.id)).toEqual([
        "other",
        "p1",
      ]);
      expect(await store().pendingAdmission([], 10)).toEqual([]);
      // Not claimable until admitted.
      const claimed = await store().claimRuns("w", { workflows: ["wf"] }, 5000, 1000, 10);
      expect(claimed.map((c) => c.run.id)).toEqual(["normal"]);
    });

    test("admitRuns sets each run's flow control and delay, or fails it, once", async () => {
      await store().createRun(newRun("ok", 1000, { admitted: false }));
      await store().createRun(newRun("bad", 1000, { admitted: false }));
      expect(
        await store().admitRuns(
          [
            { id: runId("ok"), admission: { fields: flowFields, delayMs: 500 } },
            { id: runId("bad"), admission: { error: '{"message":"bad input"}' } },
          ],
          2000,
        ),
      ).toEqual({ claimed: [], unclaimed: 1, failed: ["bad"] });
      expect(await store().getRun(runId("ok"))).toMatchObject(admittedRow);
      expect(await store().getRun(runId("bad"))).toMatchObject({
        admitted: true,
        status: "failed",
        error: '{"message":"bad input"}',
        finishedAt: 2000,
      });
      // A second worker admitting the same run does nothing, and is told so.
      expect(
        await store().admitRuns(
          [
            { id: runId("ok"), admission: { error: "late" } },
            { id: runId("bad"), admission: { fields: {}, delayMs: 0 } },
          ],
          3000,
        ),
      ).toEqual({ claimed: [], unclaimed: 0, failed: [] });
      expect(await store().getRun(runId("ok"))).toMatchObject({ status: "queued", priority: 5 });
      expect((await store().getRun(runId("bad")))?.status).toBe("failed");
      expect(await store().pendingAdmission(["wf"], 10)).toEqual([]);
      const [c] = await store().claimRuns("w", { workflows: ["wf"], queues: ["q"] }, 2500, 1000, 5);
      expect(c?.run.id).toBe("ok");
    });

    test("admitRuns writes the same columns for one run alone as for several at once", async () => {
      // A store may take a statement of its own for a lone admission (PostgreSQL does).
      for (const id of ["alone", "pair-1", "pair-2"]) {
        await store().createRun(newRun(id, 1000, { admitted: false }));
      }
      const admission = { fields: { ...flowFields, workflowVersion: 2 }, delayMs: 500 };
      await store().admitRuns([{ id: runId("alone"), admission }], 2000);
      await store().admitRuns(
        [
          { id: runId("pair-1"), admission },
          { id: runId("pair-2"), admission },
        ],
        2000,
      );
      for (const id of ["alone", "pair-1", "pair-2"]) {
        expect(await store().getRun(runId(id))).toMatchObject({
          ...admittedRow,
          workflowVersion: 2,
          leaseOwner: null,
          fencingToken: 0,
        });
      }
    });

    test("admitRuns with a claim takes the run in the same write, once, only when admitted now", async () => {
      for (const id of ["mine", "delayed", "plain", "taken"]) {
        await store().createRun(newRun(id, 1000, { admitted: false }));
      }
      const entry: JournalEntry = {
        ...{ position: 0, key: "a", kind: "step", status: "completed", output: "1" },
        ...{ error: null, attempt: 1, startedAt: 900, finishedAt: 901, wakeAt: null },
        ...{ detail: null, seq: 1 },
      };
      await store().createRunWithJournal(newRun("copy", 1000, { admitted: false }), [entry], {});
      // "taken" is admitted (and claimed) by another worker first.
      const other = { owner: "w2", leaseUntil: 31_500 };
      const {
        claimed: [first],
      } = await store().admitRuns(
        [{ id: runId("taken"), admission: { fields: {}, delayMs: 0 }, claim: other }],
        1500,
      );
      expect(first).toMatchObject({ run: { id: "taken", leaseOwner: "w2" }, token: 1 });
      const claim = { owner: "w1", leaseUntil: 32_000 };
      const { claimed, unclaimed, failed } = await store().admitRuns(
        [
          { id: runId("mine"), admission: { fields: { priority: 3 }, delayMs: 0 }, claim },
          // A delay is not claimed now, whatever the caller asked.
          { id: runId("delayed"), admission: { fields: {}, delayMs: 500 }, claim },
          { id: runId("plain"), admission: { fields: {}, delayMs: 0 } },
          { id: runId("taken"), admission: { fields: {}, delayMs: 0 }, claim },
          // A run with a journal is only admitted: the claim resolves what it waits for.
          { id: runId("copy"), admission: { fields: {}, delayMs: 0 }, claim },
        ],
        2000,
      );
      expect(claimed.map((c) => c.run.id)).toEqual(["mine"]);
      // "taken" was another worker's: admitted now and left for a claim are the other three.
      expect({ unclaimed, failed }).toEqual({ unclaimed: 3, failed: [] });
      expect(claimed[0]).toMatchObject({
        token: 1,
        takeover: false,
        crashes: 0,
        journalEmpty: true,
        run: { status: "running", admitted: true, priority: 3, startedAt: 2000 },
      });
      expect(await store().getRun(runId("mine"))).toMatchObject({
        status: "running",
        leaseOwner: "w1",
        availableAt: 32_000,
        fencingToken: 1,
      });
      expect(await store().getRun(runId("taken"))).toMatchObject({
        status: "running",
        leaseOwner: "w2",
        fencingToken: 1,
      });
      // Its lease fences writes like any claim's, and the others wait for a claim.
      expect(
        await store().commit([
          {
            type: "complete",
            runId: runId("mine"),
            token: 1,
            output: "{}",
            at: 2100,
          },
        ]),
      ).toMatchObject([{ ok: true, status: "completed" }]);
      const later = await store().claimRuns("w3", { workflows: ["wf"] }, 2600, 1000, 10);
      expect(later.map((c) => c.run.id).sort()).toEqual(["copy", "delayed", "plain"]);
    });

    test("a paused workflow's runs are not claimed until it is resumed", async () => {
      expect(await store().pausedWorkflows()).toEqual([]);
      await store().setWorkflowPaused("wf", true, 1000);
      await store().setWorkflowPaused("wf", true, 1100);
      await store().setWorkflowPaused("b", true, 1100);
      expect(await store().pausedWorkflows()).toEqual(["b", "wf"]);
      await store().createRun(newRun("r", 1000));
      expect(await store().claimRuns("w", { workflows: ["wf"] }, 2000, 1000, 5)).toEqual([]);
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBeNull();
      await store().setWorkflowPaused("wf", false, 3000);
      await store().setWorkflowPaused("wf", false, 3000);
      expect(await store().pausedWorkflows()).toEqual(["b"]);
      expect(await store().nextWakeAt({ workflows: ["wf"] })).toBe(1000);
      const [c] = await store().claimRuns("w", { workflows: ["wf"] }, 3000, 1000, 5);
      expect(c?.run.id).toBe("r");
    });
  });
}
