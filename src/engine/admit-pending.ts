import { ensureError } from "../core/errors.ts";
import { deserialize, serializeError } from "../core/serializer.ts";
import type { RegistryStore, RunAdmission } from "../store/registry-store.ts";
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
  engine: Pick<Engine, "clock" | "registry" | "bus" | "notify"> & {
    store: Pick<RegistryStore, "pendingAdmission" | "admitRuns">;
  },
): Promise<void> {
  const pending = await engine.store.pendingAdmission([...engine.registry.keys()], 100);
  if (pending.length === 0) return;
  const now = engine.clock.now();
  const admissions: RunAdmission[] = [];
  const rejected: RunAdmission["id"][] = [];
  for (const run of pending) {
    const definition = engine.registry.get(run.workflow);
    if (!definition) continue;
    try {
      const input = await validateInput(definition, deserialize(run.input));
      const { debounce, ...fields } = runOptionsFor(definition, input, now, "admission");
      admissions.push({ id: run.id, admission: { fields, delayMs: debounce?.periodMs ?? 0 } });
    } catch (error) {
      admissions.push({ id: run.id, admission: { error: serializeError(ensureError(error)) } });
      rejected.push(run.id);
    }
  }
  await engine.store.admitRuns(admissions, now);
  for (const id of rejected) engine.bus.finished(id);
  engine.notify();
}
