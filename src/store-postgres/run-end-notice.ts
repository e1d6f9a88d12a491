import type { RunId } from "../core/types.ts";
import type { RunOutcome } from "../store/store.ts";

/**
 * Turns the payloads of the schema's ended-runs channel into `watchEnds` calls. A payload is
 * the run's id, or (migration 0015) the id, its status and its serialized outcome, separated
 * by the first two newlines (ids hold no control characters). No payload: the listener
 * restarted and may have missed ends.
 */
export function onEndNotice(
  onEnded: (runIds?: readonly RunId[], outcomes?: ReadonlyMap<RunId, RunOutcome>) => void,
): (payload?: string) => void {
  return (payload) => {
    if (payload === undefined) return onEnded();
    const { id, outcome } = parseEndNotice(payload);
    onEnded([id], outcome && new Map([[id, outcome]]));
  };
}

export function parseEndNotice(payload: string): { id: RunId; outcome?: RunOutcome } {
  const idEnd = payload.indexOf("\n");
  const statusEnd = idEnd < 0 ? -1 : payload.indexOf("\n", idEnd + 1);
  if (statusEnd < 0) return { id: payload as RunId };
  const id = payload.slice(0, idEnd) as RunId;
  const status = payload.slice(idEnd + 1, statusEnd);
  const body = payload.slice(statusEnd + 1);
  if (status === "completed") return { id, outcome: { status, output: body } };
  if (status === "failed") return { id, outcome: { status, error: body } };
  return { id };
}
