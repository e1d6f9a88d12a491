/**
 * Deterministic simulation of the engine (`simulate` from `cairnjs/testing`): seeded worlds of
 * worker processes on a real SQLite database, with crashes at store calls, failed and
 * ambiguous commits, lost leases, stalled workers and clock jumps. `CAIRN_SIM_SEEDS` sets how
 * many seeds (`npm run soak` runs 100,000). `SEED=n` replays one seed in every simulate call:
 * run it with `-t "holds every"`, since the tests that must find a violation need their
 * own seeds.
 */
import { describe, expect, it } from "vitest";
import { defineWorkflow, NonRetryableError } from "../src/index.ts";
import { type SimRun, simulate } from "../src/testing/index.ts";

const seeds = Number(process.env.CAIRN_SIM_SEEDS ?? 500);

const order = defineWorkflow(
  { name: "sim-order", retry: { maxAttempts: 3, backoff: "fixed", initialInterval: "1s" } },
  async (ctx, input: { id: string; items: number[] }) => {
    const total = await ctx.step("price", () => input.items.reduce((a, b) => a + b, 0));
    const reserved = await Promise.all(
      input.items.map((item, i) => ctx.step(`reserve-${i}`, () => item * 2)),
    );
    await ctx.sleep("cool-off", "10m");
    const paid = await ctx.waitForEvent<{ amount: number }>("payment", {
      event: "sim.paid",
      match: { orderId: input.id },
    });
    const note = await ctx.waitForSignal<string>("note");
    const receipt = await ctx.invoke("receipt", receiptFlow, { id: input.id, total });
    return { total, reserved, paid: paid?.data.amount ?? null, note, receipt };
  },
);

const receiptFlow = defineWorkflow(
  { name: "sim-receipt" },
  async (ctx, input: { id: string; total: number }) => {
    await ctx.sleep("batch", "30s");
    return ctx.step("send", () => `receipt ${input.id}: ${input.total}`);
  },
);

let flaky = 0;
const retrying = defineWorkflow(
  { name: "sim-retrying", retry: { maxAttempts: 4, backoff: "fixed", initialInterval: "2s" } },
  async (ctx, input: { n: number }) => {
    const first = await ctx.step("sometimes-fails", ({ attempt }) => {
      // Fails on its first attempt in every world: the retry is part of the outcome.
      if (attempt === 1) throw new Error(`try again (${flaky++ >= 0 ? "once" : ""})`);
      return input.n + 1;
    });
    const refused = await ctx
      .step("refused", () => {
        throw new NonRetryableError("no");
      })
      .catch((error: Error) => error.message);
    return { first, refused };
  },
);

const runs = (n: number): SimRun[] =>
  Array.from({ length: n }, (_, i) =>
    i % 2 === 0
      ? {
          workflow: order,
          input: { id: `o${i}`, items: [i, i + 1] },
          id: `order-${i}`,
          events: [{ name: "sim.paid", data: { orderId: `o${i}`, amount: 10 * i } }],
          signals: [{ name: "note", data: `note ${i}` }],
        }
      : { workflow: retrying, input: { n: i }, id: `retrying-${i}` },
  );

describe("simulate", () => {
  it(
    `holds every guarantee over ${seeds} seeds of crashes, failed commits, lost leases and stalls`,
    async () => {
      const report = await simulate([order, receiptFlow, retrying], {
        seeds,
        runs: runs(4),
        // A soak of many seeds says how far it got.
        onSeed: ({ seed }) => {
          if (seeds > 1_000 && seed % 1_000 === 0)
            console.log(`simulate: seed ${seed} of ${seeds}`);
        },
      });
      console.log(
        `simulate: ${report.seeds} seeds in ${Math.round(report.elapsedMs)} ms (${Math.round(
          (report.seeds * 1000) / report.elapsedMs,
        )} seeds/s); ${JSON.stringify(report.totals)}; engine errors: ${report.engineErrors.length}`,
      );
      for (const e of report.engineErrors.slice(0, 5)) console.log(e);
      expect(report.failures.map((f) => f.message)).toEqual([]);
      expect(report.totals.crashes).toBeGreaterThan(0);
      expect(report.totals.takeovers).toBeGreaterThan(0);
    },
    Math.max(180_000, seeds * 1_000),
  );

  it(
    "holds every guarantee when a process without the code starts the runs and workers admit them",
    async () => {
      const report = await simulate([order, receiptFlow, retrying], {
        // A quarter of the main test's seeds: `npm run soak` runs 25,000.
        seeds: Math.ceil(seeds / 4),
        runs: runs(4),
        startsWithoutCode: true,
      });
      for (const e of report.engineErrors.slice(0, 5)) console.log(e);
      expect(report.failures.map((f) => f.message)).toEqual([]);
      expect(report.totals.crashes).toBeGreaterThan(0);
      expect(report.totals.takeovers).toBeGreaterThan(0);
      // The faults met the runs the admissions took, not only runs left to a claim.
      expect(report.totals.admissionClaims).toBeGreaterThan(0);
    },
    Math.max(180_000, seeds * 1_000),
  );

  it("catches a database that loses writes it acknowledged: a recorded step runs again", async () => {
    const report = await simulate([order, receiptFlow, retrying], {
      seeds: 20,
      runs: runs(4),
      faults: { lostWrites: 0.3 },
      stopOnFailure: true,
    });
    const said = report.failures.flatMap((f) => f.violations).join("\n");
    expect(report.failures.length).toBeGreaterThan(0);
    expect(said).toMatch(/ran again on worker-\d+ after its outcome was recorded/);
    expect(report.failures[0]?.message).toMatch(
      /^Simulation seed \d+ failed \(replay it with SEED=\d+\)/,
    );
  });

  // An outside system without idempotency: a second call for one order is refused.
  const shipped = new Set<string>();
  const ship = (order: string, key: string, idempotent: boolean) => {
    if (shipped.has(idempotent ? key : order)) {
      if (idempotent) return `shipped ${order}`;
      throw new NonRetryableError(`order ${order} shipped twice`);
    }
    shipped.add(idempotent ? key : order);
    return `shipped ${order}`;
  };
  const shipping = (idempotent: boolean) =>
    defineWorkflow({ name: `sim-ship-${idempotent}` }, async (ctx, order: string) => {
      await ctx.step("check", () => order.length);
      return ctx.step("ship", ({ idempotencyKey }) => ship(order, idempotencyKey, idempotent));
    });

  it("catches a step that is not idempotent: a crash mid-step calls the outside system twice", async () => {
    const workflow = shipping(false);
    const report = await simulate([workflow], {
      seeds: 60,
      runs: [0, 1, 2, 3].map((i) => ({ workflow, input: `o${i}` })),
      faults: { crashes: 0.5 },
      setup: () => shipped.clear(),
      stopOnFailure: true,
    });
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures[0]?.violations.join("\n")).toMatch(
      /is failed \(NonRetryableError: order o\d shipped twice\); without faults it is completed/,
    );
  });

  it("passes the same step made idempotent with its idempotencyKey", async () => {
    const workflow = shipping(true);
    const report = await simulate([workflow], {
      seeds: 30,
      runs: [0, 1, 2, 3].map((i) => ({ workflow, input: `o${i}` })),
      faults: { crashes: 0.5 },
      setup: () => shipped.clear(),
    });
    expect(report.failures).toEqual([]);
    expect(report.totals.repeatedSteps).toBeGreaterThan(0);
  });

  it("refuses options that would prove nothing, saying which", async () => {
    await expect(simulate([order], { seeds: 1, runs: [{ workflow: retrying }] })).rejects.toThrow(
      'runs[0] (seed 1) starts workflow "sim-retrying", which is not among the workflows given (sim-order)',
    );
    await expect(simulate([order], { seeds: 1, runs: [] })).rejects.toThrow(
      "must list at least one run",
    );
    await expect(
      simulate([retrying], { seeds: 1, runs: runs(2).slice(1), faults: { crashes: 2 } }),
    ).rejects.toThrow("`faults.crashes` must be a chance from 0 to 1, got 2");
    await expect(
      simulate([retrying], {
        seeds: 1,
        runs: runs(2).slice(1),
        startsWithoutCode: "yes" as unknown as boolean,
      }),
    ).rejects.toThrow('`startsWithoutCode` must be true or false, got "yes"');
    await expect(simulate([retrying], { seeds: 0, runs: runs(2).slice(1) })).rejects.toThrow(
      "`seeds` must be a positive integer or a list, got 0",
    );
  });

  it("replays a seed exactly: the same store calls, faults and clock, twice", async () => {
    const traces = async () => {
      const seen: string[] = [];
      await simulate([order, receiptFlow, retrying], {
        seeds: 20,
        runs: runs(4),
        onSeed: (result) => seen.push(`${result.seed}:${result.trace}`),
      });
      return seen;
    };
    const first = await traces();
    expect(await traces()).toEqual(first);
  });
});
