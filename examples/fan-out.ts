/**
 * Fan-out / fan-in: count the stock of every SKU of a warehouse in parallel steps, sum the
 * counts in one aggregate step, then publish the report through a child workflow.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineWorkflow } from "../src/index.ts";

/** Below this many units a SKU is reported as low on stock. */
const lowStockThreshold = 5;

/** 40 SKUs, the size of the seed's fan-out benchmark. */
export const sampleSkus = Array.from(
  { length: 40 },
  (_, i) => `SKU-${String(i + 1).padStart(3, "0")}`,
);

export const InventoryInput = z.object({
  warehouse: z.string().min(1),
  skus: z.array(z.string().min(1)).min(1).max(1_000),
});

interface Report {
  warehouse: string;
  skus: number;
  units: number;
  lowStock: string[];
}

/** The child workflow: its own run, journal and retries; the parent waits without a slot. */
export const publishReport = defineWorkflow(
  { name: "publish-report" },
  async (ctx, report: Report) => {
    const body = await ctx.step("render", () =>
      [
        `Stock report for ${report.warehouse}`,
        `${report.skus} SKUs, ${report.units} units`,
        `low stock: ${report.lowStock.join(", ") || "none"}`,
      ].join("\n"),
    );
    const upload = await ctx.step("upload", async () => {
      await sleep(10); // stands in for an object-store PUT
      return { url: `https://reports.example.com/${report.warehouse}.txt`, bytes: body.length };
    });
    return upload.url;
  },
);

export const inventoryReport = defineWorkflow(
  { name: "inventory-report", input: InventoryInput },
  async (ctx, { warehouse, skus }) => {
    // Every step starts at once; each is its own checkpoint, so after a crash only the
    // counts that had not finished run again. Names are unique per SKU, which keeps the
    // journal readable (repeated names would also work: `count`, `count#2`, …).
    const counts = await Promise.all(
      skus.map((sku) => ctx.step(`count:${sku}`, () => countStock(warehouse, sku))),
    );

    const report = await ctx.step(
      "aggregate",
      (): Report => ({
        warehouse,
        skus: counts.length,
        units: counts.reduce((sum, c) => sum + c.units, 0),
        lowStock: counts.filter((c) => c.units < lowStockThreshold).map((c) => c.sku),
      }),
    );

    const url = await ctx.invoke("publish", publishReport, report);
    return { ...report, url };
  },
);

/** A fake stock count: deterministic per SKU, with a few ms of latency like a real lookup. */
async function countStock(warehouse: string, sku: string) {
  let hash = 2166136261; // FNV-1a: spreads similar SKU names over unrelated counts
  for (const ch of `${warehouse}/${sku}`) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
  await sleep(5 + (hash % 20));
  return { sku, units: hash % 60 };
}
