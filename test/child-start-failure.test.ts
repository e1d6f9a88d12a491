/**
 * A store failure while `ctx.invoke` creates the child run is no outcome of the parent: its
 * execution stops and the run resumes once the lease lapses (found by `simulate`, seed 7 of
 * test/simulate.test.ts: the parent used to fail with the storage error).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, inject, it } from "vitest";
import { openStore } from "../src/engine/open-store.ts";
import { Cairn, defineWorkflow, type Store } from "../src/index.ts";
import { TestClock, waitForEngine, waitForStatus } from "../src/testing/index.ts";
import { testStore } from "./support/engine.ts";
import { freshSchema } from "./support/postgres.ts";

/** A fresh database of the store under test, and the function that removes it. */
async function freshDatabase(): Promise<{ url: string; remove: () => Promise<void> }> {
  if (testStore === "postgres") {
    const base = inject("cairnTestPgUrl");
    const { schema, drop } = await freshSchema(base);
    return { url: `${base}${base.includes("?") ? "&" : "?"}schema=${schema}`, remove: drop };
  }
  const dir = mkdtempSync(join(tmpdir(), "cairn-child-start-"));
  return {
    url: `sqlite:${join(dir, "cairn.db")}`,
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

const child = defineWorkflow({ name: "child" }, async (ctx, n: number) =>
  ctx.step("double", () => n * 2),
);
const parent = defineWorkflow({ name: "parent" }, async (ctx, n: number) => {
  const doubled = await ctx.invoke("child", child, n);
  return ctx.step("after", () => doubled + 1);
});

it("a child run whose creation fails in the store once is created on resume; the parent completes", async () => {
  const database = await freshDatabase();
  const inner = await openStore(database.url);
  let failed = 0;
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "createRun") {
        return async (...args: Parameters<Store["createRun"]>) => {
          if (args[0].parentId && failed === 0) {
            failed++;
            throw Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
          }
          return inner.createRun(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const clock = new TestClock();
  const cairn = await Cairn.open({
    store,
    clock,
    workflows: [parent, child],
    leaseMs: 1_000,
    onError: () => {},
  });
  try {
    await cairn.worker();
    const run = await cairn.start(parent, 20);
    await waitForEngine(cairn, async () => failed === 1, "the child's creation failing");
    expect((await cairn.getRun(run.id)).status).toBe("running");
    clock.advance(1_001); // the aborted execution's lease lapses; the worker claims the run again
    await waitForStatus(cairn, run.id, ["completed", "failed"]);
    expect(await run.result()).toBe(41);
  } finally {
    await cairn.close();
    await database.remove();
  }
});
