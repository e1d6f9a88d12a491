import { afterEach, describe, expect, it } from "vitest";
import { Cairn, ConfigError, defineWorkflow } from "../src/index.ts";
import type { TestCairn } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

let t: TestCairn | undefined;
const others: Cairn[] = [];
afterEach(async () => {
  for (const other of others.splice(0)) await other.close();
  await t?.close();
  t = undefined;
});

type Order = { orderId: string; total: number };

const charge = defineWorkflow(
  { name: "charge", idempotency: { key: (order: Order) => order.orderId, ttl: "24h" } },
  async (ctx, order: Order) => ctx.step("charge", () => order.total),
);

const plain = defineWorkflow({ name: "plain" }, async (_ctx, order: Order) => order.total);

describe("idempotency windows", () => {
  it("returns the run that took the key within the window, and starts a new run after it", async () => {
    t = await testCairn({ workflows: [charge] });
    const first = await t.cairn.start(charge, { orderId: "o1", total: 10 });
    expect(first.created).toBe(true);
    await first.result();

    t.clock.advance("23h");
    const again = await t.cairn.start(charge, { orderId: "o1", total: 99 });
    expect(again).toMatchObject({ id: first.id, created: false, inputMatches: false });
    expect(await again.result()).toBe(10);

    // Another key is another run, at once.
    const other = await t.cairn.start(charge, { orderId: "o2", total: 5 });
    expect(other.created).toBe(true);
    expect(other.id).not.toBe(first.id);

    t.clock.advance("1h"); // 24h after the first run: the window has closed
    const later = await t.cairn.start(charge, { orderId: "o1", total: 11 });
    expect(later.created).toBe(true);
    expect(later.id).not.toBe(first.id);
    expect(await later.result()).toBe(11);

    // The new run holds the key now, for its own window.
    t.clock.advance("1h");
    const next = await t.cairn.start(charge, { orderId: "o1", total: 12 });
    expect(next).toMatchObject({ id: later.id, created: false });
  });

  it("takes the start's own idempotency over the workflow's, with a key given outright", async () => {
    t = await testCairn({ workflows: [plain, charge] });
    const options = { idempotency: { key: "nightly-2026-12-04", ttl: "10m" } } as const;
    const first = await t.cairn.start(plain, { orderId: "a", total: 1 }, options);
    const second = await t.cairn.start(plain, { orderId: "b", total: 2 }, options);
    expect(second).toMatchObject({ id: first.id, created: false });
    // Keys are per workflow: the same key on another workflow is another run.
    const elsewhere = await t.cairn.start(charge, { orderId: "a", total: 1 }, options);
    expect(elsewhere.created).toBe(true);
    // The start's ttl replaces the workflow's 24h for this start.
    t.clock.advance("11m");
    const third = await t.cairn.start(charge, { orderId: "x", total: 1 }, options);
    expect(third.created).toBe(true);
    const byWorkflowKey = await t.cairn.start(charge, { orderId: "a", total: 3 });
    expect(byWorkflowKey.created).toBe(true); // "a" was never a workflow key: the start's was
  });

  it("agrees on one run when many starts of one key race, from one engine and from two", async () => {
    t = await testCairn({ workflows: [charge] });
    const second = await Cairn.open({ db: t.db, workflows: [charge], clock: t.clock });
    others.push(second);
    const starts = Array.from({ length: 24 }, (_, i) =>
      (i % 2 === 0 ? t?.cairn : second)?.start(charge, { orderId: "race", total: i }),
    );
    const handles = await Promise.all(starts);
    const ids = new Set(handles.map((h) => h?.id));
    expect(ids.size).toBe(1);
    expect(handles.filter((h) => h?.created)).toHaveLength(1);
    const runs = await t.cairn.listRuns({ workflow: "charge", limit: 100 });
    expect(runs).toHaveLength(1);

    // Past the window, racing starts take the key over once: one new run, shared by all.
    t.clock.advance("25h");
    const later = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 === 0 ? t?.cairn : second)?.start(charge, { orderId: "race", total: i }),
      ),
    );
    expect(new Set(later.map((h) => h?.id)).size).toBe(1);
    expect(later.filter((h) => h?.created)).toHaveLength(1);
    expect(later[0]?.id).not.toBe(handles[0]?.id);
  });

  it("applies to runs that events start", async () => {
    const onOrder = defineWorkflow(
      {
        name: "on-order",
        triggers: [{ event: "order.created" }],
        idempotency: { key: (order: Order) => order.orderId, ttl: "1h" },
      },
      async (_ctx, order: Order) => order.total,
    );
    t = await testCairn({ workflows: [onOrder] });
    const one = await t.cairn.sendEvent("order.created", { orderId: "o9", total: 1 });
    const two = await t.cairn.sendEvent("order.created", { orderId: "o9", total: 2 });
    expect(one.started).toHaveLength(1);
    expect(two.started).toEqual([]);
    t.clock.advance("2h");
    const three = await t.cairn.sendEvent("order.created", { orderId: "o9", total: 3 });
    expect(three.started).toHaveLength(1);
    expect(three.started[0]).not.toBe(one.started[0]);
  });

  it("applies to flows that declare it", async () => {
    t = await testCairn({ workflows: [] });
    await t.cairn.flows.deploy(`
name: keyed-flow
idempotency: { key: "=input.orderId", ttl: 1h }
steps:
  - id: nap
    sleep: 1d
`);
    const first = await t.cairn.start("keyed-flow", { orderId: "f1" });
    const again = await t.cairn.start("keyed-flow", { orderId: "f1" });
    const other = await t.cairn.start("keyed-flow", { orderId: "f2" });
    expect(again).toMatchObject({ id: first.id, created: false });
    expect(other.created).toBe(true);
    await expect(
      t.cairn.flows.deploy(`
name: bad-key
idempotency: { key: "=steps.x", ttl: 1h }
steps:
  - id: nap
    sleep: 1d
`),
    ).rejects.toThrow(/idempotency.key/);
  });

  it("lets a start take over the key of a run that was purged", async () => {
    t = await testCairn({ workflows: [charge] });
    const first = await t.cairn.start(charge, { orderId: "p1", total: 1 });
    await first.result();
    t.clock.advance("1m");
    expect(await t.cairn.purgeRuns("1s")).toBe(1);
    const again = await t.cairn.start(charge, { orderId: "p1", total: 2 });
    expect(again.created).toBe(true);
    expect(await again.result()).toBe(2);
  });
});

describe("unknown and malformed options", () => {
  it("refuses an unknown workflow option by name, at definition", () => {
    const options = { name: "typo", idempotencyKey: "x" };
    expect(() => defineWorkflow(options, async () => 1)).toThrow(ConfigError);
    expect(() => defineWorkflow(options, async () => 1)).toThrow(
      /defineWorkflow\("typo"\): unknown option "idempotencyKey"/,
    );
    expect(() =>
      // @ts-expect-error: `retries` is not an option (it is `retry`)
      defineWorkflow({ name: "typo2", retries: 3 }, async () => 1),
    ).toThrow(/unknown option "retries"/);
  });

  it("refuses a malformed idempotency option, naming the field", () => {
    expect(() =>
      defineWorkflow(
        // @ts-expect-error: ttl is missing
        { name: "no-ttl", idempotency: { key: () => "k" } },
        async () => 1,
      ),
    ).toThrow(/idempotency.ttl/);
    expect(() =>
      defineWorkflow(
        // @ts-expect-error: the workflow's key is a function of the input
        { name: "string-key", idempotency: { key: 5, ttl: "1h" } },
        async () => 1,
      ),
    ).toThrow(ConfigError);
  });

  it("refuses an unknown start option by name, and creates nothing", async () => {
    t = await testCairn({ workflows: [plain] });
    await expect(
      // @ts-expect-error: `idempotencyKey` is not a start option
      t.cairn.start(plain, { orderId: "a", total: 1 }, { idempotencyKey: "k" }),
    ).rejects.toThrow(/cairn.start: unknown option "idempotencyKey"/);
    await expect(
      t.cairn.start(
        plain,
        { orderId: "a", total: 1 },
        { idempotency: { key: "k", ttl: "soon" as never } },
      ),
    ).rejects.toThrow(ConfigError);
    expect(await t.cairn.listRuns({})).toEqual([]);
  });
});
