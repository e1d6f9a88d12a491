import { afterAll, describe, expect, it } from "vitest";
import { freshSchema, testDatabaseUrl } from "../../test/support/postgres.ts";
import type { RunId } from "../core/types.ts";
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
