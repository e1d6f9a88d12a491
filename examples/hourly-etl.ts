import { defineWorkflow } from "../src/index.ts";

/**
 * An hourly ETL, Airflow-style: each run handles its slot's logical interval (the hour it
 * stands for), so a run that fires late, a caught-up run or a backfilled one all process
 * exactly their own hour. Missed hours after downtime are all caught up, one at a time.
 */
export const hourlyEtl = defineWorkflow(
  {
    name: "hourly-etl",
    triggers: [{ cron: "0 * * * *", tz: "UTC", catchup: "all", overlap: "queue" }],
  },
  async (ctx) => {
    const interval = ctx.scheduled;
    if (!interval) throw new Error("hourly-etl runs from its schedule or a backfill");
    const from = interval.start.toISOString();
    const to = interval.end?.toISOString() ?? from;
    const rows = await ctx.step("extract", () => fakeSource(from, to));
    const cleaned = await ctx.step("transform", () =>
      rows.filter((r) => r.amount > 0).map((r) => ({ ...r, amount: Math.round(r.amount * 100) })),
    );
    const loaded = await ctx.step("load", ({ idempotencyKey }) =>
      fakeWarehouse(cleaned, idempotencyKey),
    );
    return { hour: from, extracted: rows.length, loaded };
  },
);

/** Rows of one hour; deterministic per hour, so a re-run extracts the same data. */
function fakeSource(from: string, to: string): { id: string; amount: number }[] {
  const seed = new Date(from).getUTCHours();
  void to;
  return Array.from({ length: 5 + (seed % 4) }, (_, i) => ({
    id: `${from}#${i}`,
    amount: ((seed * 7 + i * 13) % 11) - 2,
  }));
}

const loadedBatches = new Set<string>();

/** An upsert keyed by the step's idempotency key: a repeated load writes nothing twice. */
function fakeWarehouse(rows: { id: string; amount: number }[], key: string): number {
  if (loadedBatches.has(key)) return 0;
  loadedBatches.add(key);
  return rows.length;
}
