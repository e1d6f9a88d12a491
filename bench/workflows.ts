import { defineWorkflow } from "../src/index.ts";

/**
 * The benchmark's workflows. Every step is a trivial function returning a small JSON value
 *, so the figures measure the engine (journal writes, scheduling), not user code.
 */

/** `steps` sequential steps; returns how many ran (checked by the bench). W1, W3, W4. */
export const sequential = defineWorkflow(
  { name: "bench-sequential" },
  async (ctx, input: { steps: number }) => {
    let done = 0;
    for (let i = 0; i < input.steps; i++) {
      const out = await ctx.step(`step-${i}`, () => ({ i, ok: true }));
      if (out.ok) done++;
    }
    return done;
  },
);

/** `steps` parallel steps awaited with Promise.all; returns how many ran. W2. */
export const fanOut = defineWorkflow(
  { name: "bench-fan-out" },
  async (ctx, input: { steps: number }) => {
    const outs = await Promise.all(
      Array.from({ length: input.steps }, (_, i) =>
        ctx.step(`branch-${i}`, () => ({ i, ok: true })),
      ),
    );
    return outs.filter((o) => o.ok).length;
  },
);

/**
 * Sleeps `ms`: the run suspends, holding only its rows in the store, until a worker
 * claims it again. W5 (an hour, and 1 ms for the warm-up: suspend, wake, replay, finish).
 */
export const sleeper = defineWorkflow(
  { name: "bench-sleeper" },
  async (ctx, input: { ms: number }) => {
    await ctx.sleep("nap", input.ms);
    return "woke";
  },
);

export const benchWorkflows = [sequential, fanOut, sleeper];
