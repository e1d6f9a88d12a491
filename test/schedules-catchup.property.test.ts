import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextSlot, parseCron } from "../src/engine/cron.ts";
import { defineWorkflow } from "../src/index.ts";
import type { TestCairn } from "../src/testing/index.ts";
import { testCairn } from "./support/engine.ts";

const ping = defineWorkflow({ name: "ping" }, async () => "pong");

const crons = fc.constantFrom(
  "* * * * * *",
  "*/7 * * * * *",
  "*/7 * * * *",
  "0 */3 * * *",
  "30 2 * * 1-5",
  "0 0 1 * *",
);
const zones = fc.constantFrom("UTC", "Europe/Paris", "America/New_York");
const dayMs = 86_400_000;
/** `all` creates a run per missed slot, so its pauses stay short enough to run them all. */
const cases = fc.constantFrom("none" as const, "latest" as const, "all" as const).chain((catchup) =>
  fc.record({
    catchup: fc.constant(catchup),
    cron: catchup === "all" ? fc.constantFrom("*/7 * * * * *", "0 */3 * * *") : crons,
    tz: zones,
    pauseMs: fc.integer({ min: 0, max: catchup === "all" ? 3_600_000 : 3 * dayMs }),
  }),
);

let t: TestCairn;
let seq = 0;
beforeAll(async () => {
  t = await testCairn({ workflows: [ping], start: Date.UTC(2030, 2, 30, 23, 59, 59, 500) });
  await t.cairn.worker();
});
afterAll(async () => {
  await t.close();
});

/** Waits until the scheduler handled every slot up to now (it polls; the engine has no event for it). */
async function handled(id: string, now: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await t.cairn.schedules.get(id)).nextAt.getTime() <= now) {
    if (Date.now() > deadline) throw new Error(`schedule ${id} still behind after 20 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The slots of every run of the schedule (a listing returns at most 1000 runs a page). */
async function slotsFired(id: string): Promise<number[]> {
  const slots: number[] = [];
  let before: NonNullable<Parameters<TestCairn["cairn"]["listRuns"]>[0]>["before"];
  for (;;) {
    const page = await t.cairn.listRuns({
      idPrefix: `sched-${id}-`,
      limit: 1000,
      ...(before ? { before } : {}),
    });
    slots.push(...page.map((r) => r.slotAt as number));
    const last = page[page.length - 1];
    if (page.length < 1000 || !last) return slots;
    before = { createdAt: last.createdAt, id: last.id };
  }
}

describe("catch-up after a pause", () => {
  it("fires exactly what the policy says, whatever the pause and the cron", async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ catchup, cron, tz, pauseMs }) => {
        const id = `p${seq++}`;
        const created = await t.cairn.schedules.create({
          id,
          workflow: "ping",
          cron,
          tz,
          catchup,
          overlap: "allow",
          paused: true,
        });
        const first = created.nextAt.getTime();
        t.clock.advance(pauseMs);
        const now = t.clock.now();
        await t.cairn.schedules.resume(id);
        await handled(id, now);
        const fired = (await slotsFired(id)).sort((a, b) => a - b);
        const c = parseCron(cron, tz);
        const slotAfter = (s: number) => nextSlot(c, s) ?? Number.MAX_SAFE_INTEGER;
        expect((await t.cairn.schedules.get(id)).nextAt.getTime()).toBe(slotAfter(now));
        if (first > now) {
          expect(fired).toEqual([]);
        } else if (catchup === "latest") {
          // One run: a due slot whose successor is still in the future.
          expect(fired).toHaveLength(1);
          const [slot] = fired as [number];
          expect(slot).toBeGreaterThanOrEqual(first);
          expect(slot).toBeLessThanOrEqual(now);
          expect(slotAfter(slot)).toBeGreaterThan(now);
        } else {
          // `none` looks only at the last minute: walking days of per-second slots takes seconds.
          const from = catchup === "all" ? first : Math.max(first, slotAfter(now - 61_000));
          const expected: number[] = [];
          for (let s = from; s <= now; s = slotAfter(s)) expected.push(s);
          expect(fired).toEqual(
            catchup === "all" ? expected : expected.filter((s) => now - s <= 60_000),
          );
        }
        await t.cairn.schedules.delete(id);
      }),
      {
        numRuns: 12,
        examples: [
          // The reported case: a per-second schedule paused three days fired two "latest" runs.
          [{ catchup: "latest", cron: "* * * * * *", tz: "UTC", pauseMs: 3 * dayMs }],
          // More missed slots than one pass creates: the rest follow on the next passes.
          [{ catchup: "all", cron: "*/7 * * * * *", tz: "UTC", pauseMs: 9_000_000 }],
        ],
      },
    );
  });
});
