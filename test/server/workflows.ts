import { z } from "zod";
import { defineWorkflow, NonRetryableError } from "../../src/index.ts";

/** Workflows the server tests start over HTTP. */

export const greet = defineWorkflow(
  { name: "greet", input: z.object({ name: z.string() }) },
  async (ctx, input) => {
    const greeting = await ctx.step("hello", () => `hello ${input.name}`);
    const at = await ctx.step("stamp", () => new Date(Date.UTC(2030, 0, 2)));
    return { greeting, at };
  },
);

/** Returns its input unchanged: for payload round trips. */
export const echo = defineWorkflow({ name: "echo" }, async (ctx, input: unknown) =>
  ctx.step("echo", () => input),
);

/** Waits for signal `go`, then returns its payload. */
export const gated = defineWorkflow({ name: "gated" }, async (ctx) => {
  await ctx.step("before", () => "ready");
  const payload = await ctx.waitForSignal<unknown>("go");
  return ctx.step("after", () => ({ got: payload }));
});

/** Waits for event `order.approved` matching its order id. */
export const approval = defineWorkflow({ name: "approval" }, async (ctx, orderId: string) => {
  const event = await ctx.waitForEvent<{ orderId: string; by: string }>("approval", {
    event: "order.approved",
    match: { orderId },
  });
  return event ? `approved by ${event.data.by}` : "timed out";
});

/** Waits for the event a webhook named `github` sends. */
export const onPush = defineWorkflow({ name: "on-push" }, async (ctx, ref: string) => {
  const event = await ctx.waitForEvent<{ ref: string; n: number }>("push", {
    event: "github",
    match: { ref },
  });
  return event?.data ?? null;
});

/** Fails without retry: a card is declined. */
export const declined = defineWorkflow({ name: "declined" }, async (ctx) => {
  await ctx.step("charge", () => {
    throw new NonRetryableError("card declined");
  });
});

const attempts = new Map<string, number>();

/** Fails on its first run, succeeds once retried: input is a key for the attempt counter. */
export const flaky = defineWorkflow({ name: "flaky" }, async (ctx, key: string) => {
  const first = await ctx.step("first", () => "kept");
  const second = await ctx.step("second", () => {
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (n === 1) throw new NonRetryableError("first time fails");
    return n;
  });
  return { first, second };
});

export const testWorkflows = [greet, echo, gated, approval, onPush, declined, flaky];
