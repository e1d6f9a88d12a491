import { CairnError } from "../core/errors.ts";
import type { ExecutionEnv } from "../worker/execution-env.ts";
import { StoreFailure } from "../worker/store-failure.ts";
import type { Engine } from "./engine.ts";
import { buildNewRun } from "./new-run.ts";

/**
 * Creates (idempotently) the child run of a `ctx.invoke`, with its workflow's options.
 * @throws StoreFailure when the store fails: the parent's execution stops, not the parent.
 */
export async function startChild(
  engine: Engine,
  request: Parameters<ExecutionEnv["startChild"]>[0],
): Promise<void> {
  const { parent, position, childId, workflow, input } = request;
  const definition = engine.resolve(workflow);
  const depth = parent.run.depth + 1;
  const maxDepth = engine.options.maxDepth ?? 32;
  if (depth > maxDepth) {
    throw new CairnError(
      "MAX_DEPTH_EXCEEDED",
      `Child workflow depth ${depth} is over the limit of ${maxDepth}.`,
    );
  }
  // Code this process lacks (a flow's `workflow:` step on a worker without user code) may be
  // versioned elsewhere: the child waits unadmitted, and a worker with the code admits it
  // on its newest version with its options, as a start by name does.
  const local = engine.registry.has(definition.name);
  const newRun = await buildNewRun({
    id: childId,
    name: definition.name,
    workflow: local ? definition : undefined,
    input,
    origin: "child",
    now: engine.clock.now(),
    label: `The input of child workflow "${definition.name}"`,
    payloadLimitBytes: engine.payloadLimitBytes,
    parent: { id: parent.run.id, position, depth },
  });
  const { run, created } = await engine.store.createRun(newRun).catch((error: unknown) => {
    throw new StoreFailure(error);
  });
  if (!created) return;
  engine.bus.emitRun(run.id, run.workflow, "queued", undefined, "created");
  engine.notify();
}
