import { afterEach, expect, it } from "vitest";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { type TestCairn, waitForStatus } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

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
