import { describe, expect, it } from "vitest";
import { parseSse } from "../../ui/src/api/sse-parser.ts";
import type { JsonSchema, Step } from "../../ui/src/api/types.ts";
import {
  clean,
  InvalidJson,
  initialValue,
  isFormable,
  validate,
} from "../../ui/src/form/schema-model.ts";
import { buildWaterfall, failedAttempts, waitLabel } from "../../ui/src/run/waterfall-model.ts";
import { backfillSlots } from "../../ui/src/schedules/backfill-slots.ts";

describe("parseSse", () => {
  it("splits complete events, keeps the unfinished rest, drops comments", () => {
    const { messages, rest } = parseSse(
      'retry: 2000\n: connected\n\nevent: run\ndata: {"a":1}\nid: 7\n\n: heartbeat\n\nevent: step\r\ndata: x\r\ndata: y\r\n\r\nevent: run\ndata: {"b"',
    );
    expect(messages).toEqual([
      { event: "run", data: '{"a":1}', id: "7" },
      { event: "step", data: "x\ny" },
    ]);
    expect(rest).toBe('event: run\ndata: {"b"');
  });
});

const orderSchema: JsonSchema = {
  type: "object",
  properties: {
    orderId: { type: "string", minLength: 3 },
    quantity: { type: "integer", minimum: 1, default: 1 },
    express: { type: "boolean", default: false },
    currency: { type: "string", enum: ["EUR", "USD"] },
    email: { type: "string", format: "email" },
    notes: { type: "array", items: { type: "string" } },
    items: { type: "array", items: { type: "object", properties: { sku: { type: "string" } } } },
  },
  required: ["orderId", "quantity", "express", "currency"],
};

describe("schema form model", () => {
  it("starts from defaults and empty values", () => {
    expect(initialValue(orderSchema)).toEqual({ quantity: 1, express: false, notes: [] });
    expect(isFormable(orderSchema)).toBe(true);
    expect(isFormable({ type: "string" })).toBe(true);
    expect(isFormable({ anyOf: [{ type: "string" }, { type: "number" }] })).toBe(false);
  });

  it("names each invalid field and what is wrong with it", () => {
    expect(
      validate(orderSchema, {
        orderId: "ab",
        quantity: 1.5,
        express: false,
        email: "nope",
        items: new InvalidJson("[", "Unexpected end of JSON input"),
      }),
    ).toEqual([
      { path: "currency", message: "is required" },
      { path: "orderId", message: "must be at least 3 characters" },
      { path: "quantity", message: "must be a whole number" },
      { path: "email", message: "must be an email address" },
      { path: "items", message: "is not valid JSON: Unexpected end of JSON input" },
    ]);
    expect(
      validate(orderSchema, { orderId: "abc", quantity: 2, express: true, currency: "USD" }),
    ).toEqual([]);
  });

  it("accepts zod's nullable shape and drops empty optional fields", () => {
    const schema: JsonSchema = { anyOf: [{ type: "integer", minimum: 0 }, { type: "null" }] };
    expect(validate(schema, -1)).toEqual([{ path: "", message: "must be ≥ 0" }]);
    expect(clean({ a: "", b: undefined, c: [1], d: { e: "" } })).toEqual({ c: [1], d: {} });
  });
});

const step = (over: Partial<Step>): Step => ({
  position: 0,
  key: "s",
  kind: "step",
  status: "completed",
  attempt: 1,
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  wakeAt: null,
  error: null,
  ...over,
});

describe("waterfall model", () => {
  const t = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
  const run = { createdAt: t(0), startedAt: t(0), finishedAt: t(20) };

  it("draws attempts, the backoff between them, and waits labelled with what they wait for", () => {
    const model = buildWaterfall(
      [
        step({
          key: "charge",
          attempt: 2,
          attempts: [
            {
              attempt: 1,
              startedAt: t(1),
              endedAt: t(2),
              error: { name: "Error", message: "timeout" },
            },
            { attempt: 2, startedAt: t(5), endedAt: t(6) },
          ],
        }),
        step({
          position: 1,
          key: "approved",
          kind: "event",
          startedAt: t(6),
          finishedAt: t(18),
          waitFor: { event: "order.approved" },
        }),
        step({
          position: 2,
          key: "nap",
          kind: "sleep",
          startedAt: t(18),
          finishedAt: null,
          status: "waiting",
          wakeAt: t(30),
        }),
      ],
      run,
      Date.parse(t(19)),
    );
    expect(model.t0).toBe(Date.parse(t(0)));
    expect(model.t1).toBe(Date.parse(t(20)));
    const [charge, approved, nap] = model.rows;
    expect(charge?.segments.map((s) => [s.kind, s.failed])).toEqual([
      ["attempt", true],
      ["backoff", false],
      ["attempt", false],
    ]);
    expect(charge?.segments[1]).toMatchObject({ start: Date.parse(t(2)), end: Date.parse(t(5)) });
    expect(approved?.segments[0]).toMatchObject({
      kind: "wait",
      label: "waits for event order.approved",
    });
    expect(nap?.segments[0]).toMatchObject({ kind: "wait", open: true, end: Date.parse(t(19)) });
    expect(failedAttempts(charge?.step as Step)).toBe(1);
  });

  it("counts a retried step's failures from its attempt number when attempts are not listed", () => {
    expect(failedAttempts(step({ attempt: 3 }))).toBe(2);
    expect(failedAttempts(step({ attempt: 2, status: "failed" }))).toBe(2);
    const lastOnly = step({
      key: "charge",
      attempt: 3,
      startedAt: t(5),
      finishedAt: t(6),
      attempts: [{ attempt: 3, startedAt: t(5), endedAt: t(6) }],
    });
    expect(failedAttempts(lastOnly)).toBe(2);
    const [row] = buildWaterfall([lastOnly], run, Date.parse(t(20))).rows;
    expect(row?.segments.map((s) => [s.kind, s.label])).toEqual([
      ["backoff", "2 earlier failed attempts and backoff"],
      ["attempt", "attempt 3"],
    ]);
    expect(waitLabel(step({ kind: "invoke", childRunId: "child-1" }))).toBe(
      "waits for child run child-1",
    );
  });
});

describe("backfill slots", () => {
  it("lists the slots of [from, to) in the schedule's time zone, like the server", () => {
    const { slots, total } = backfillSlots(
      "0 2 * * *",
      "Europe/Paris",
      new Date("2026-01-01T00:00:00Z"),
      new Date("2026-01-03T01:00:00Z"),
    );
    expect(total).toBe(2);
    expect(slots.map((s) => s.toISOString())).toEqual([
      "2026-01-01T01:00:00.000Z",
      "2026-01-02T01:00:00.000Z",
    ]);
  });
});
