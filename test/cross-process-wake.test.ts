import { afterEach, expect, it } from "vitest";
import { serialize } from "../src/core/serializer.ts";
import { Engine } from "../src/engine/engine.ts";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn, testStore } from "./support/engine.ts";

const greet = defineWorkflow({ name: "greet" }, async (ctx, input: { to: string }) =>
  ctx.step("say", () => `hello ${input.to}`),
);

let worker: TestCairn | undefined;
let starter: Cairn | undefined;
afterEach(async () => {
  await starter?.close();
  await worker?.close();
  starter = worker = undefined;
});

// A worker on a test clock never polls by itself (its poll timer waits for the clock), so
// the run below completes only if the store wakes the worker when another engine, with no
// worker of its own, starts a run on the same database: LISTEN/NOTIFY on PostgreSQL,
// `PRAGMA data_version` on SQLite. This is how `cairn worker` processes learn of runs that
// `cairn server` starts.
it("a worker wakes for a run another engine started, without waiting for its poll", async () => {
  worker = await testCairn({ workflows: [greet] });
  starter = await Cairn.open({ db: worker.db, workflows: [greet], clock: worker.clock });
  const run = await starter.start(greet, { to: "ada" });
  await waitForStatus(worker.cairn, run.id, "completed", 20_000);
  expect((await starter.getRun(run.id)).output).toBe("hello ada");
});

// `result()` of a run another engine executes: the store announces the end (a trigger's
// NOTIFY on PostgreSQL; on SQLite, a read of the awaited runs after another connection's
// commit), and the waiting engine's bus hears it. The wait below is ten minutes long, so it
// ends only through that announcement, not through the waiter's poll.
it("a result() waiting in another engine hears the run's end without polling", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const gated = defineWorkflow({ name: "gated" }, async (ctx, input: { to: string }) => {
    await ctx.step("hold", () => held);
    return ctx.step("say", () => `hello ${input.to}`);
  });
  worker = await testCairn({ workflows: [gated] });
  const waiting = await Engine.open({ db: worker.db, workflows: [] });
  try {
    const run = await worker.cairn.start(gated, { to: "ada" });
    // Created claimed, so PostgreSQL announces its end only once the waiter asks.
    await waiting.ends.watch(run.id);
    const finish = waiting.bus.nextFinish(run.id, 600_000);
    release();
    // The announcement carries the outcome: the waiter returns without a read.
    expect(await finish.notice).toEqual({ status: "completed", output: '{"json":"hello ada"}' });
    expect((await waiting.store.getRun(run.id))?.status).toBe("completed");
  } finally {
    await waiting.close();
  }
});

it("result() in an engine without workers returns a run another engine executed", async () => {
  worker = await testCairn({ workflows: [greet] });
  starter = await Cairn.open({ db: worker.db, workflows: [greet] });
  const run = await starter.start(greet, { to: "grace" });
  expect(await run.result()).toBe("hello grace");
});

// A run started by a process without the code (a `cairn server`) is claimable by nobody
// until a worker admits it, and the admission claims it. So where the wake-up says so, the
// worker's pass is the admission alone: no claim and no read of the next due moment, which
// found nothing new on the path of every such run. PostgreSQL's notice also carries a lone
// start's id and input, so the pending runs need no read either; SQLite's ring carries no
// run (the read is of the local file).
const counted = ["pendingAdmission", "claimRuns", "nextWakeAt"] as const;

/**
 * Logs the calls the worker's engine makes to some of its store's methods (the real store's),
 * in order as they begin, with the ids of the runs each `admitRuns` admits; `count` tallies them.
 */
function callLog(cairn: Cairn) {
  const store = cairn.store;
  const log: string[] = [];
  for (const name of [...counted, "admitRuns"] as const) {
    const original = store[name].bind(store) as (...args: unknown[]) => Promise<never>;
    store[name] = ((...args: unknown[]) => {
      const admissions = name === "admitRuns" ? (args[0] as { id: string }[]) : [];
      log.push([name, ...admissions.map((a) => a.id)].join(" "));
      return original(...args);
    }) as never;
  }
  const count = () =>
    Object.fromEntries(counted.map((name) => [name, log.filter((c) => c === name).length]));
  return { log, count };
}

it("a worker woken for a run started without its code admits it, and only admits", async () => {
  worker = await testCairn({ workflows: [greet] });
  starter = await Cairn.open({ db: worker.db, workflows: [], clock: worker.clock });
  const first = await starter.start("greet", { to: "ada" });
  expect(await worker.cairn.handle(first.id).result()).toBe("hello ada");
  const { log, count } = callLog(worker.cairn);
  const second = await starter.start("greet", { to: "grace" });
  expect(await worker.cairn.handle(second.id).result()).toBe("hello grace");
  // The pass that admitted it went no further: a full pass claims next. Other passes may
  // come and go meanwhile on SQLite (its worker also wakes for its own commits).
  const admitted = log.indexOf(`admitRuns ${second.id}`);
  expect(admitted).toBeGreaterThanOrEqual(0);
  expect(log[admitted + 1]).not.toBe("claimRuns");
  if (testStore === "postgres") {
    expect(count()).toEqual({ pendingAdmission: 0, claimRuns: 0, nextWakeAt: 0 });
  } else expect(log[admitted - 1]).toBe("pendingAdmission");
});

// PostgreSQL refuses a notice of 8,000 bytes or more: the insert would fail. The run's id
// and input ride along up to 7,999 bytes of payload (U+0001, workflow, U+0002, id, U+0002,
// input); one byte more and the worker reads the run instead.
it("a run whose id and input fill a wake-up to its limit, or pass it, is admitted either way", async () => {
  worker = await testCairn({ workflows: [greet] });
  starter = await Cairn.open({ db: worker.db, workflows: [], clock: worker.clock });
  const warm = await starter.start("greet", { to: "ada" });
  await worker.cairn.handle(warm.id).result();
  const overhead =
    3 + "greet".length + "edge-run-1".length + serialize({ to: "" }, "input", 1_000_000).length;
  for (const [id, extra, reads] of [
    ["edge-run-1", 0, 0],
    ["edge-run-2", 1, 1],
  ] as const) {
    const to = "x".repeat(7_999 - overhead + extra);
    const { count } = callLog(worker.cairn);
    const run = await starter.start("greet", { to }, { id });
    expect(await worker.cairn.handle(run.id).result()).toBe(`hello ${to}`);
    if (testStore === "postgres") expect(count().pendingAdmission).toBe(reads);
  }
});

// Starts made in one turn share one insert, whose notice names only the workflow (200 runs'
// inputs would be 200 notices to every worker): the admissions pass then reads the runs.
it("a worker woken for a batch of runs started without its code reads them and admits them", async () => {
  worker = await testCairn({ workflows: [greet] });
  starter = await Cairn.open({ db: worker.db, workflows: [], clock: worker.clock });
  const warm = await starter.start("greet", { to: "ada" });
  await worker.cairn.handle(warm.id).result();
  const { count } = callLog(worker.cairn);
  const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
  // The test clock never moves: no poll, only the wake-up brings the worker.
  const runs = await Promise.all(names.map((to) => starter?.start("greet", { to })));
  const results = await Promise.all(
    runs.map((run) => run && worker?.cairn.handle(run.id).result()),
  );
  expect(results).toEqual(names.map((to) => `hello ${to}`));
  if (testStore === "postgres") expect(count().pendingAdmission).toBeGreaterThan(0);
});
