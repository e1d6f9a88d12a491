import { NonRetryableError } from "../../core/errors.ts";
import type { FlowStep } from "../../core/flow/flow-schema.ts";
import type { Workflow } from "../../core/workflow.ts";
import type { CompiledFlow } from "./compiled-flow.ts";
import type { FlowServices } from "./flow-services.ts";
import { runFlowStep, type StepSample } from "./run-flow.ts";

/**
 * The built-in workflow whose runs test one step of a deployed flow version alone, over
 * sample data (the flow editor's "test this step"). A run like any other: claimed by any
 * worker, journaled, shown live; the step goes through the flow interpreter's own runner.
 */
export const flowStepWorkflowName = "cairn.flow-step";

export interface FlowStepTest extends StepSample {
  flow: string;
  version: number;
  /** The step's id (ids are unique across a flow, inner steps included). */
  step: string;
}

/**
 * Where a step sits: the step and the journal key a full run gives it (`each[0].enrich`
 * inside a forEach, at the sample's index; branch arms add nothing), or undefined.
 */
export function locateStep(
  steps: readonly FlowStep[],
  id: string,
  index = 0,
  prefix = "",
): { step: FlowStep; key: string } | undefined {
  for (const step of steps) {
    const key = `${prefix}${step.id}`;
    if (step.id === id) return { step, key };
    const inner = step.forEach
      ? locateStep(step.forEach.steps, id, index, `${key}[${index}].`)
      : undefined;
    if (inner) return inner;
    for (const arm of step.branch ?? []) {
      const found = locateStep(arm.steps, id, index, prefix);
      if (found) return found;
    }
  }
  return undefined;
}

export function flowStepWorkflow(
  load: (name: string, version: number) => Promise<CompiledFlow>,
  services: FlowServices,
): Workflow<unknown, unknown> {
  return {
    name: flowStepWorkflowName,
    options: { name: flowStepWorkflowName },
    timeoutMs: undefined,
    kind: "cairn.workflow",
    fn: async (ctx, raw) => {
      const test = raw as FlowStepTest;
      const flow = await load(test.flow, test.version);
      const located = locateStep(flow.document.steps, test.step, test.index ?? 0);
      if (!located) {
        throw new NonRetryableError(
          `Flow "${test.flow}" v${test.version} has no step "${test.step}".`,
        );
      }
      return runFlowStep(ctx, flow, located, test, services);
    },
  };
}
