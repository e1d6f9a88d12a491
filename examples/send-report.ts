import { defineWorkflow } from "../src/index.ts";

/** The code workflow the nightly-report and invoke flows start as a child run. */
export const sendReport = defineWorkflow(
  { name: "send-report" },
  async (ctx, input: { day: string; total: number }) =>
    ctx.step("mail", () => `report for ${input.day}: total ${input.total}`),
);
