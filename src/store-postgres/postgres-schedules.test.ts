import { afterAll, describe, expect, it } from "vitest";
import { freshSchema, testDatabaseUrl } from "../../test/support/postgres.ts";
import { newRun } from "../store/conformance-support.ts";
import { PostgresStore } from "./postgres-store.ts";

const url = await testDatabaseUrl();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("a schedule pass on PostgreSQL", () => {
  it("opens a transaction only when a schedule is due", async () => {
    const schema = await freshSchema(url);
    const store = await PostgresStore.open({ url, schema: schema.schema, max: 2 });
    cleanups.push(schema.drop, () => store.close());
    // postgres.js reports every statement it sends to `options.debug`.
    const begun: string[] = [];
    store.sql.options.debug = (_connection, query) => {
      if (query.startsWith("BEGIN")) begun.push(query);
    };
    const plan = () => ({ runs: [newRun("slot-1", 60_000)], nextAt: 120_000 });
    await store.schedules.upsert(
      {
        ...{ id: "s", workflow: "wf", cron: "* * * * *", tz: "UTC", input: null },
        ...{ overlap: "allow", catchup: "all", nextAt: 60_000, source: "api" },
      },
      1_000,
    );
    // Before its slot, and for another workflow's scheduler: nothing due, no transaction.
    expect(await store.schedules.fireDue(59_999, 100, plan, ["wf"])).toEqual({
      schedules: 0,
      created: [],
    });
    expect(await store.schedules.fireDue(60_000, 100, plan, ["other"])).toMatchObject({
      schedules: 0,
    });
    expect(begun).toEqual([]);
    expect(await store.schedules.fireDue(60_000, 100, plan, ["wf"])).toEqual({
      schedules: 1,
      created: ["slot-1"],
    });
    expect(begun).toHaveLength(1);
  });
});
