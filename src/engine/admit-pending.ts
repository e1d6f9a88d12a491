import { ensureError } from "../core/errors.ts";
import { deserialize, serializeError } from "../core/serializer.ts";
import type { RegistryStore, RunAdmission } from "../store/registry-store.ts";
import type { NoticedRun } from "../store/store.ts";
import { leaseMoment } from "../worker/lease-watch.ts";
import { admissionBatch } from "../worker/loop-wake.ts";
import { directClaim } from "./direct-claim.ts";
import type { Engine } from "./engine.ts";
import { runOptionsFor } from "./new-run.ts";
import { validateInput } from "./validate-input.ts";

/**
 * Admits runs that processes without the code started for this process's workflows: their
 * input is validated and the workflow's options applied, or the run fails with the reason.
 * The whole batch is admitted in one transaction: one commit for a hundred runs a `cairn
 * server` started, where one each made a worker's claims wait behind a hundred fsyncs.
 */
export async function admitPending(
  engine: Pick<
    Engine,
    "clock" | "registry" | "bus" | "notify" | "worker" | "paused" | "versions" | "leaseMs"
  > & {
    store: Pick<RegistryStore, "pendingAdmission" | "admitRuns">;
  },
  noticed?: readonly NoticedRun[],
): Promise<void> {
  // Runs the wake-ups carried need no read (the admission's write skips any admitted since).
  const pending =
    noticed ?? (await engine.store.pendingAdmission([...engine.registry.keys()], admissionBatch));
  if (pending.length === 0) return;
  // Before the clock is read for the leases' end: the worker's view of them must not start later.
  const claimedAt = leaseMoment(engine.clock);
  const now = claimedAt.engine;
  // This worker's free slots take admitted runs in the admission's own write (see
  // `RunAdmission.claim`): a run a `cairn server` started then costs the worker one commit
  // before its first step, not two.
  let free = engine.worker?.freeSlots() ?? 0;
  const admissions: RunAdmission[] = [];
  for (const run of pending) {
    const definition = engine.registry.get(run.workflow);
    if (!definition) continue;
    try {
      const input = await validateInput(definition, deserialize(run.input));
      const { debounce, ...fields } = runOptionsFor(definition, input, now, "admission");
      const delayMs = debounce?.periodMs ?? 0;
      const claim =
        free > 0 && delayMs === 0 ? directClaim(engine, definition, fields.queue, now) : undefined;
      if (claim) free--;
      admissions.push({ id: run.id, admission: { fields, delayMs }, ...(claim ? { claim } : {}) });
    } catch (error) {
      admissions.push({ id: run.id, admission: { error: serializeError(ensureError(error)) } });
    }
  }
  const { claimed, unclaimed, failed } = await engine.store.admitRuns(admissions, now);
  for (const id of failed) engine.bus.finished(id);
  if (claimed.length > 0) engine.worker?.adopt(claimed, claimedAt);
  // Runs admitted here and left for a claim (no slot here, flow control, a delay) wake the
  // loop, and so does a full batch: more may wait, and their NOTIFY was heard already. Runs
  // another worker admitted first do not: with two workers, the one that lost the race took
  // a claim pass that found nothing, beside the winner's run on the same cores.
  if (unclaimed > 0 || pending.length === admissionBatch) engine.notify();
}
