import { createRoute } from "@hono/zod-openapi";
import { compileInputSchema } from "../../core/flow/input-validator.ts";
import {
  type FlowStepTest,
  flowStepWorkflowName,
  locateStep,
} from "../../engine/flows/flow-step-test.ts";
import { apiRoute } from "../api-route.ts";
import { FlowStepParams, StepTestBody } from "../flow-schemas.ts";
import { HttpProblem } from "../problems.ts";
import { Run } from "../schemas.ts";
import { toRunWire } from "../wire.ts";

export const testFlowStep = apiRoute({
  policy: "operator",
  body: "required",
  route: createRoute({
    method: "post",
    path: "/api/v1/flows/{name}/steps/{step}/test",
    tags: ["flows"],
    summary: "Run one step of a flow alone, over sample data",
    description:
      "Starts a run of the built-in workflow `cairn.flow-step` that runs this step of the flow version (the latest by default) as a full run would, with `input`, the sample outputs in `steps` (and `item`/`index` inside a forEach) as its expressions' data. The run's output is the step's output; its journal key is the step's key in a full run. 404 for an unknown flow, version or step; 422 for input the flow's schema rejects.",
    request: {
      params: FlowStepParams,
      body: { required: true, content: { "application/json": { schema: StepTestBody } } },
    },
    responses: {
      201: { description: "The test run", content: { "application/json": { schema: Run } } },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const { name, step } = c.req.valid("param");
      const body = c.req.valid("json");
      const record = await cairn.store.flows.get(name, body.version);
      if (!record) {
        throw new HttpProblem(
          "not_found",
          body.version === undefined
            ? `No flow named "${name}".`
            : `Flow "${name}" has no version ${body.version}.`,
        );
      }
      const flow = await cairn.flows.version(name, record.version);
      if (!locateStep(flow.document.steps, step)) {
        throw new HttpProblem(
          "not_found",
          `Flow "${name}" v${record.version} has no step "${step}".`,
        );
      }
      let input: unknown = body.input ?? {};
      if (flow.document.input) {
        const checked = compileInputSchema(flow.document.input)(input);
        if (!checked.ok) throw new HttpProblem("INVALID_INPUT", checked.errors.join("; "));
        input = checked.value;
      }
      const test: FlowStepTest = {
        flow: name,
        version: record.version,
        step,
        input,
        steps: body.steps ?? {},
        ...("item" in body ? { item: body.item } : {}),
        ...(body.index === undefined ? {} : { index: body.index }),
      };
      const handle = await cairn.start(flowStepWorkflowName, test);
      const run = toRunWire(await cairn.getRun(handle.id));
      return c.json(run, 201, { Location: `/api/v1/runs/${encodeURIComponent(handle.id)}` });
    },
});
