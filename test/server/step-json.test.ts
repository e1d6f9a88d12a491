import superjson from "superjson";
import { describe, expect, it } from "vitest";
import type { RunStatus } from "../../src/core/types.ts";
import { stepsJson, withRawMember } from "../../src/server/step-json.ts";
import { stepFromEntry } from "../../src/server/wire-ui.ts";
import type { JournalEntry } from "../../src/store/store.ts";

const at = Date.UTC(2026, 0, 2, 3, 4, 5);

function entry(position: number, fields: Partial<JournalEntry>): JournalEntry {
  return {
    position,
    key: `k-${position}`,
    kind: "step",
    status: "completed",
    output: null,
    error: null,
    attempt: 1,
    startedAt: at,
    finishedAt: at + position,
    wakeAt: null,
    detail: null,
    seq: position + 1,
    ...fields,
  };
}

const failure = JSON.stringify({ name: "TypeError", message: 'no "quote"', stack: "at x" });

/** Every shape a stored output and a journal position can take on the run page. */
const journal: JournalEntry[] = [
  entry(0, { output: superjson.stringify({ ok: true, text: 'has "meta" inside' }) }),
  entry(1, { output: superjson.stringify({ when: new Date(at), big: 10n }) }),
  entry(2, { output: superjson.stringify(undefined) }),
  entry(3, { output: superjson.stringify(null) }),
  entry(4, { output: superjson.stringify("line\nbreak \u2028 and é") }),
  entry(5, { status: "failed", error: failure, attempt: 3 }),
  entry(6, { status: "retrying", error: failure, wakeAt: at + 60_000, finishedAt: null }),
  entry(7, { kind: "sleep", status: "waiting", wakeAt: at + 5_000, finishedAt: null }),
  entry(8, {
    kind: "event",
    status: "waiting",
    detail: JSON.stringify({ event: "paid", match: { id: 1 } }),
    wakeAt: at + 9_000,
    finishedAt: null,
  }),
  entry(9, {
    kind: "signal",
    output: superjson.stringify(null),
    wakeAt: at,
    finishedAt: at + 10,
    detail: JSON.stringify({ signal: "go" }),
  }),
  entry(10, { kind: "invoke", detail: JSON.stringify({ childId: "child-1" }) }),
  entry(11, { kind: "transaction", output: superjson.stringify([1, { a: [2] }]) }),
  entry(12, { kind: "uuid", output: superjson.stringify("0b7c"), startedAt: null }),
  entry(13, { output: '{"json":{"meta":1}}' }),
];

describe("stepsJson", () => {
  for (const status of ["running", "cancelled", "completed"] as RunStatus[]) {
    it(`sends the same steps as the object form for a ${status} run`, () => {
      const expected = journal.map((e) => stepFromEntry(e, status));
      expect(JSON.parse(stepsJson(journal, status))).toEqual(expected);
    });
  }

  it("copies an output without meta as text and keeps the meta of one that has it", () => {
    const [plain, dated, undef] = JSON.parse(stepsJson(journal, "completed")) as Record<
      string,
      unknown
    >[];
    expect(plain?.output).toEqual({ ok: true, text: 'has "meta" inside' });
    expect(dated?.outputMeta).toMatchObject({ values: { when: ["Date"], big: ["bigint"] } });
    expect(undef).not.toHaveProperty("output");
  });

  it("is an empty array for an empty journal", () => {
    expect(stepsJson([], "queued")).toBe("[]");
  });
});

describe("withRawMember", () => {
  it("appends the member to an object with and without other members", () => {
    expect(JSON.parse(withRawMember({ a: 1 }, "steps", "[1]"))).toEqual({ a: 1, steps: [1] });
    expect(JSON.parse(withRawMember({}, "steps", "[]"))).toEqual({ steps: [] });
  });
});
