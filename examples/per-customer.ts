import { defineWorkflow } from "../src/index.ts";

/**
 * Per-customer concurrency: at most two exports run at once for any one customer, while
 * other customers are not held back. Runs over the limit wait in the store, not in memory.
 */
export const customerExport = defineWorkflow(
  {
    name: "customer-export",
    concurrency: { limit: 2, key: (input: { customer: string; report: string }) => input.customer },
  },
  async (ctx, input: { customer: string; report: string }) => {
    const rows = await ctx.step("query", async () => {
      await new Promise((resolve) => setTimeout(resolve, 40)); // a slow warehouse query
      return 100 + input.report.length;
    });
    return ctx.step(
      "upload",
      () => `s3://exports/${input.customer}/${input.report}.csv (${rows} rows)`,
    );
  },
);
