import type Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../src/index.ts";
import { createTestCairn, type TestCairn, waitForStatus } from "../src/testing/index.ts";

let t: TestCairn | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("ctx.transaction on SQLite", () => {
  it("commits the step's own writes with its checkpoint, once", async () => {
    const wf = defineWorkflow({ name: "tx" }, async (ctx, orderId: string) => {
      const rowId = await ctx.transaction("record", (db: Database.Database) => {
        db.exec("CREATE TABLE IF NOT EXISTS app_orders (id TEXT PRIMARY KEY)");
        return db.prepare("INSERT INTO app_orders (id) VALUES (?)").run(orderId).lastInsertRowid;
      });
      await ctx.sleep("later", "1m");
      return Number(rowId);
    });
    t = await createTestCairn({ workflows: [wf] });
    const run = await t.cairn.start(wf, "o1");
    await waitForStatus(t.cairn, run.id, "waiting");
    t.clock.advance("1m");
    // The replay after the sleep returns the recorded row id instead of inserting again.
    expect(await run.result()).toBe(1);
    const info = await t.cairn.getRun(run.id);
    expect(info.steps[0]).toMatchObject({
      kind: "transaction",
      key: "record",
      status: "completed",
    });
  });

  it("rolls back a failed attempt and retries it", async () => {
    let attempts = 0;
    const wf = defineWorkflow({ name: "tx-retry" }, async (ctx) =>
      ctx.transaction(
        "insert",
        (db: Database.Database) => {
          db.exec("CREATE TABLE IF NOT EXISTS app_rows (n INTEGER)");
          db.prepare("INSERT INTO app_rows (n) VALUES (?)").run(++attempts);
          if (attempts === 1) throw new Error("conflict");
          return (db.prepare("SELECT count(*) AS c FROM app_rows").get() as { c: number }).c;
        },
        { retry: { maxAttempts: 2, initialInterval: 0 } },
      ),
    );
    t = await createTestCairn({ workflows: [wf] });
    // Only the second attempt's row survived.
    expect(await (await t.cairn.start(wf, undefined)).result()).toBe(1);
  });

  it("refuses an async function with a clear error", async () => {
    const wf = defineWorkflow({ name: "tx-async" }, async (ctx) =>
      ctx.transaction("bad", async () => 1, { retry: { maxAttempts: 1 } }),
    );
    t = await createTestCairn({ workflows: [wf] });
    await expect((await t.cairn.start(wf, undefined)).result()).rejects.toThrow(
      /On SQLite, the function of ctx.transaction must be synchronous/,
    );
  });
});
