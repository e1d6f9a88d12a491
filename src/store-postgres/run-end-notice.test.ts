import { afterAll, describe, expect, it, vi } from "vitest";
import { freshSchema, testDatabaseUrl } from "../../test/support/postgres.ts";
import { systemClock } from "../core/clock.ts";
import type { RunId } from "../core/types.ts";
import { EndWatch } from "../engine/end-watch.ts";
import { EventBus } from "../engine/event-bus.ts";
import { claimOne, newRun, runId } from "../store/conformance-support.ts";
import type { RunOutcome } from "../store/store.ts";
import { PostgresStore } from "./postgres-store.ts";
import { parseEndNotice } from "./run-end-notice.ts";

describe("the payload of an ended run's notification", () => {
  it("is an id alone, or an id with its status and outcome", () => {
    expect(parseEndNotice("r1")).toEqual({ id: "r1" });
    expect(parseEndNotice('r1\ncompleted\n{"json":"two\\nlines"}')).toEqual({
      id: "r1",
      outcome: { status: "completed", output: '{"json":"two\\nlines"}' },
    });
    // The outcome is everything after the second newline, newlines and all.
    expect(parseEndNotice("r1\nfailed\n{\n}")).toEqual({
      id: "r1",
      outcome: { status: "failed", error: "{\n}" },
    });
    expect(parseEndNotice("r1\ncancelled\n")).toEqual({ id: "r1" });
  });
});

const url = await testDatabaseUrl();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("an ended run's notification", () => {
  it("carries the outcome up to 7,000 bytes, and only the id past that", async () => {
    const schema = await freshSchema(url);
    const store = await PostgresStore.open({ url, schema: schema.schema, max: 2 });
    cleanups.push(schema.drop, () => store.close());
    const heard = new Map<RunId, RunOutcome | undefined>();
    let onHeard = () => {};
    const stop = await store.watchEnds((ids, outcomes) => {
      for (const id of ids ?? []) heard.set(id, outcomes?.get(id));
      onHeard();
    });
    cleanups.push(stop);
    const small = `{"json":"${"s".repeat(6_980)}"}`;
    const large = `{"json":"${"l".repeat(7_000)}"}`;
    for (const [id, output] of [
      ["small", small],
      ["large", large],
    ] as const) {
      await store.createRun(newRun(id));
      const token = await claimOne(store, id);
      const told = new Promise<void>((resolve) => {
        onHeard = () => heard.has(runId(id)) && resolve();
      });
      await store.commit([{ type: "complete", runId: runId(id), token, output, at: 2000 }]);
      await told;
    }
    expect(heard.get(runId("small"))).toEqual({ status: "completed", output: small });
    expect(heard.has(runId("large"))).toBe(true);
    expect(heard.get(runId("large"))).toBeUndefined();
  });
});

describe("a waiter's read that asks for the run's end announcement", () => {
  // The race `getRunAnnouncingEnd` names: its update waits for the run's row while another
  // transaction ends the run; the update then asks nothing (the run has ended), and the read,
  // from the statement's snapshot, still shows it running: the end reaches nobody.
  it("says it asked nothing when the run ended while it waited, and the watch reads again", async () => {
    const schema = await freshSchema(url);
    const store = await PostgresStore.open({ url, schema: schema.schema, max: 4 });
    const ends = new EndWatch(store, new EventBus(systemClock(), () => {}), () => {});
    cleanups.push(
      schema.drop,
      () => store.close(),
      () => ends.close(),
    );
    await ends.start();
    /** Runs `read` while another transaction ends run `id` under it, once the read waits. */
    const endedUnder = async <T>(id: string, read: () => Promise<T>): Promise<T> => {
      // Created claimed: its end is announced only once a waiter asks.
      const { run } = await store.createRun(newRun(id), { owner: "w1", leaseUntil: 60_000 });
      const ending = await store.sql.reserve();
      try {
        const [backend] = await ending`SELECT pg_backend_pid() AS pid`;
        const pid = backend?.pid as number;
        await ending`BEGIN`;
        await ending`UPDATE runs SET status = 'completed', output = '{"json":2}',
          finished_at = 2000 WHERE id = ${run.id}`;
        const result = read();
        // Until the read's update waits for the row this transaction holds.
        await vi.waitFor(
          async () => {
            const blocked = await store.sql`SELECT 1 FROM pg_stat_activity
              WHERE ${pid} = ANY(pg_blocking_pids(pid)) AND query LIKE 'WITH asked AS%'`;
            expect(blocked).toHaveLength(1);
          },
          { timeout: 10_000, interval: 5 },
        );
        await ending`COMMIT`;
        return await result;
      } finally {
        ending.release();
      }
    };
    // The event stream's watch only asks: the stream reads the run its own way.
    await store.createRun(newRun("streamed"), { owner: "w1", leaseUntil: 60_000 });
    const sent: string[] = [];
    store.sql.options.debug = (_connection, query) => {
      sent.push(query);
    };
    await ends.watch(runId("streamed"));
    store.sql.options.debug = false;
    expect(sent).toHaveLength(1);
    expect(sent[0]?.trimStart()).toMatch(/^UPDATE runs SET announce_end = true/);
    expect(
      await endedUnder("raced", () => store.getRunAnnouncingEnd(runId("raced"))),
    ).toMatchObject({ run: { status: "running" }, announced: false });
    // The engine's watch reads such a run again, and finds its end.
    const read = await endedUnder("watched", () => ends.readWatched(runId("watched")));
    expect(read).toMatchObject({ status: "completed", output: '{"json":2}' });
  });
});
