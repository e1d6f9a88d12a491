import { defineWorkflow } from "../../src/index.ts";
import type { Cairn } from "../../src/sdk/cairn.ts";

/** A one-step workflow whose run marks a claim pass; register it to use {@link claimPass}. */
export const probeWorkflow = defineWorkflow({ name: "claim-probe" }, async (ctx) =>
  ctx.step("probe", () => true),
);

/**
 * Resolves once the worker has claimed, and finished, a run started now: a claim pass after
 * this moment, which takes every run due by then. After a clock advance it proves, without
 * waiting on real time, that a run not yet due was left alone.
 */
export async function claimPass(cairn: Cairn): Promise<void> {
  await (await cairn.start(probeWorkflow, undefined)).result();
}
