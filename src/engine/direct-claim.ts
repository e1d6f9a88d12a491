import type { Workflow } from "../core/workflow.ts";
import { versionOf } from "../core/workflow-version.ts";
import type { Engine } from "./engine.ts";
import { hasFlowControl } from "./flow-control.ts";

/**
 * The claim a run of `definition` on `queue` can be written with when this process's worker
 * takes it itself: a start (`createRun`) or an admission (`admitRuns`) that also leases the
 * run saves the claim's own commit. Runs under flow control, on queues the worker does not
 * serve, of paused workflows or of versions it lacks go through the store's claim. The caller
 * checks that the worker has a free slot.
 */
export function directClaim(
  engine: Pick<Engine, "worker" | "paused" | "versions" | "leaseMs">,
  definition: Workflow,
  queue: string | undefined,
  now: number,
): { owner: string; leaseUntil: number } | undefined {
  const worker = engine.worker;
  const direct =
    worker?.servesQueue(queue ?? "default") &&
    !hasFlowControl(definition) &&
    !engine.paused.has(definition.name) &&
    engine.versions.get(definition.name, versionOf(definition)) !== undefined;
  return direct && worker ? { owner: worker.id, leaseUntil: now + engine.leaseMs } : undefined;
}
