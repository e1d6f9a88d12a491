import { defineWorkflow } from "../src/index.ts";

/**
 * A code workflow that runs a Python script as a step with `ctx.script`: a child process
 * in its own process group, its return value the step's output, checkpointed like any step.
 */
export const scoreOrders = defineWorkflow(
  { name: "score-orders" },
  async (ctx, input: { totals: number[] }) => {
    const scored = await ctx.script<{ score: number; count: number }>("score", {
      lang: "python",
      file: new URL("./flows/scripts/score.py", import.meta.url).pathname,
      input: { totals: input.totals },
      timeout: "30s",
    });
    return ctx.step("grade", () => (scored.score > 50 ? "high" : "low"));
  },
);
