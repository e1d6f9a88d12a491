import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "../server/harness.ts";

/**
 * `POST /api/v1/flows/{name}/steps/{step}/test`: one step of a deployed flow run alone over
 * sample data, by the flow interpreter's own step runner, as a run of `cairn.flow-step`.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const deployed = await h.post("/api/v1/flows", { source: orders });
  expect(deployed.status, await deployed.clone().text()).toBe(201);
});
afterAll(async () => {
  await h.close();
});

const orders = `name: step-tests
input: { type: object, properties: { who: { type: string } }, required: [who] }
steps:
  - id: load
    script: { lang: bash, source: 'echo "{\\"n\\": 99}"' }
  - id: report
    script: { lang: bash, source: 'echo "{\\"line\\": \\"$CAIRN_ARG_WHO has $CAIRN_ARG_N\\"}"' }
    with: { who: "=input.who", n: "=steps.load.n + 1" }
  - id: each
    needs: [load]
    forEach:
      items: "=[1, 2, 3]"
      steps:
        - id: double
          script: { lang: bash, source: 'echo "{\\"twice\\": $(( CAIRN_ARG_X * 2 )), \\"at\\": $CAIRN_ARG_AT}"' }
          with: { x: "=item", at: "=index" }
`;

interface RunWire {
  id: string;
  workflow: string;
  status: string;
  output?: unknown;
  steps?: { key: string; status: string; output?: unknown }[];
}

async function finishedRun(id: string): Promise<RunWire> {
  await waitForStatus(h.cairn, id, "completed");
  return json<RunWire>(await h.fetch(`/api/v1/runs/${encodeURIComponent(id)}`));
}

describe("testing one flow step", () => {
  it("runs the step alone with the sample outputs it reads, journaled under its own key", async () => {
    const started = await h.post("/api/v1/flows/step-tests/steps/report/test", {
      input: { who: "ann" },
      steps: { load: { n: 41 } },
    });
    expect(started.status, await started.clone().text()).toBe(201);
    const { id, workflow } = await json<RunWire>(started);
    expect(workflow).toBe("cairn.flow-step");
    const run = await finishedRun(id);
    expect(run.output).toEqual({ line: "ann has 42" });
    // Only the tested step ran: `load` (a real script printing 99) did not.
    expect(run.steps?.map((s) => s.key)).toEqual(["report"]);
  });

  it("runs a step inside a forEach with a sample item and index, under its iteration's key", async () => {
    const started = await h.post("/api/v1/flows/step-tests/steps/double/test", {
      input: { who: "ann" },
      item: 21,
      index: 2,
    });
    expect(started.status, await started.clone().text()).toBe(201);
    const run = await finishedRun((await json<RunWire>(started)).id);
    expect(run.output).toEqual({ twice: 42, at: 2 });
    expect(run.steps?.map((s) => s.key)).toEqual(["each[2].double"]);
  });

  it("refuses an unknown step or flow, and input the flow's schema rejects", async () => {
    const unknownStep = await h.post("/api/v1/flows/step-tests/steps/nope/test", {
      input: { who: "ann" },
    });
    expect(unknownStep.status).toBe(404);
    expect((await h.post("/api/v1/flows/nope/steps/report/test", {})).status).toBe(404);
    const badInput = await h.post("/api/v1/flows/step-tests/steps/report/test", { input: {} });
    expect(badInput.status).toBe(422);
    expect(await badInput.text()).toContain("who");
  });
});
