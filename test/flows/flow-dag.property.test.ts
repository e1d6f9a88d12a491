import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestCairn, waitForStatus } from "../../src/testing/index.ts";
import { testCairn } from "../support/engine.ts";

/** A random DAG: step i needs a random subset of the steps before it; one step may be an approval. */
const dags = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    needs: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), {
          maxLength: i === 0 ? 0 : 3,
        }),
      ),
    ),
    delays: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: n, maxLength: n }),
    approvalAt: fc.option(fc.integer({ min: 0, max: n - 1 }), { nil: undefined }),
  }),
);

let t: TestCairn;
const calls: { flow: string; step: string; at: number }[] = [];
const delays = new Map<string, number>();
let tick = 0;

beforeAll(async () => {
  t = await testCairn({
    actions: {
      record: async ({ flow, step }) => {
        const delay = delays.get(`${flow}/${step}`) ?? 0;
        await new Promise((r) => setTimeout(r, delay));
        calls.push({ flow: String(flow), step: String(step), at: tick++ });
        return step;
      },
    },
  });
});
afterAll(async () => {
  await t.close();
});

let counter = 0;

describe("flow DAGs (property)", () => {
  it("run every step exactly once, after all its dependencies, also across a suspension and replay", async () => {
    await fc.assert(
      fc.asyncProperty(dags, async ({ needs, delays: ds, approvalAt }) => {
        const name = `dag-${counter++}`;
        const steps = needs.map((deps, i) => {
          const id = `s${i}`;
          const need =
            deps.length > 0 ? `\n    needs: [${deps.map((d) => `s${d}`).join(", ")}]` : "";
          delays.set(`${name}/${id}`, ds[i] ?? 0);
          return i === approvalAt
            ? `  - id: ${id}${need}\n    approval: {}`
            : `  - id: ${id}${need}\n    action: record\n    with: { flow: ${name}, step: ${id} }`;
        });
        await t.cairn.flows.deploy(`name: ${name}\nsteps:\n${steps.join("\n")}\n`);
        const run = await t.cairn.start(name, {});
        if (approvalAt !== undefined) {
          await waitForStatus(t.cairn, run.id, "waiting");
          await t.cairn.signal(run.id, `approval:s${approvalAt}`, { approved: true });
        }
        await run.result();
        const mine = calls.filter((c) => c.flow === name);
        const expected = needs.map((_, i) => `s${i}`).filter((_, i) => i !== approvalAt);
        expect(mine.map((c) => c.step).sort()).toEqual(expected.sort());
        const at = new Map(mine.map((c) => [c.step, c.at]));
        needs.forEach((deps, i) => {
          if (i === approvalAt) return;
          for (const d of deps) {
            if (d === approvalAt) continue;
            expect(at.get(`s${d}`)).toBeLessThan(at.get(`s${i}`) as number);
          }
        });
        // The journal replays against the flow without divergence.
        const replay = await t.cairn.replay(run.id);
        expect(replay).toMatchObject({ result: "consistent" });
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
