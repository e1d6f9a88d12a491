import { ensureError } from "../core/errors.ts";
import { deserialize, serializeError } from "../core/serializer.ts";
import type { RegistryStore } from "../store/registry-store.ts";
import type { Engine } from "./engine.ts";
import { runOptionsFor } from "./new-run.ts";
import { validateInput } from "./validate-input.ts";

/**
 * Admits runs that processes without the code started for this process's workflows: their
 * input is validated and the workflow's options applied, or the run fails with the reason.
 */
export async function admitPending(
  engine: Pick<Engine, "clock" | "registry" | "bus" | "notify"> & {
    store: Pick<RegistryStore, "pendingAdmission" | "admitRun">;
  },
): Promise<void> {
  const pending = await engine.store.pendingAdmission([...engine.registry.keys()], 100);
  for (const run of pending) {
    const definition = engine.registry.get(run.workflow);
    if (!definition) continue;
    const now = engine.clock.now();
    try {
      const input = await validateInput(definition, deserialize(run.input));
      const { debounce, ...fields } = runOptionsFor(definition, input, now, "admission");
      await engine.store.admitRun(run.id, { fields, delayMs: debounce?.periodMs ?? 0 }, now);
    } catch (error) {
      await engine.store.admitRun(run.id, { error: serializeError(ensureError(error)) }, now);
      engine.bus.finished(run.id);
    }
  }
  if (pending.length > 0) engine.notify();
}
