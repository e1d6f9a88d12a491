import type { NoticedRun, WakeReason } from "../store/store.ts";

/**
 * The payloads of the schema's wake-ups (`wakeChannel`). Most carry the workflow that has
 * work. A run inserted unadmitted (a `cairn server` started it) is claimable by nobody until
 * a worker admits it, and the admission claims it for a free slot: its notice starts with
 * U+0001, and the worker woken only by such notices admits, with no claim, schedule read or
 * next-due read (`worker/loop-wake.ts`). A lone insert's notice also carries the run's id
 * and input after U+0002 separators, where the whole fits a notice (PostgreSQL refuses 8,000
 * bytes), and the worker admits from it without reading the pending runs. No workflow name
 * or run id holds a control character, and serialized input holds none unescaped.
 */
const admissionPrefix = "chr(1)";
const separator = "chr(2)";
const maxPayloadBytes = 7_999;

/** The payload of a notice for an inserted run (SQL, over the row's columns). */
export const insertedRunNotice = `CASE WHEN admitted THEN workflow
      ELSE ${admissionPrefix} || workflow END`;

/** {@link insertedRunNotice}, for a lone insert: an unadmitted run's id and input too. */
export const insertedRunNoticeWithInput = `CASE WHEN admitted THEN workflow
      WHEN input IS NOT NULL AND octet_length(workflow) + octet_length(id) + octet_length(input)
        + 3 <= ${maxPayloadBytes}
      THEN ${admissionPrefix} || workflow || ${separator} || id || ${separator} || input
      ELSE ${admissionPrefix} || workflow END`;

export type OnWake = (reason?: WakeReason, run?: NoticedRun) => void;

/** Calls `onWake` with what each wake-up's payload says. */
export const onWakeNotice =
  (onWake: OnWake) =>
  (payload?: string): void => {
    const { reason, run } = readWakeNotice(payload);
    onWake(reason, run);
  };

/** What a wake-up's payload says: why it came, and the run to admit where it carries one. */
export function readWakeNotice(payload = ""): { reason?: WakeReason; run?: NoticedRun } {
  if (!payload.startsWith("\u0001")) return {};
  const idAt = payload.indexOf("\u0002");
  const inputAt = idAt < 0 ? -1 : payload.indexOf("\u0002", idAt + 1);
  if (inputAt < 0) return { reason: "admission" };
  const run = {
    workflow: payload.slice(1, idAt),
    id: payload.slice(idAt + 1, inputAt) as NoticedRun["id"],
    input: payload.slice(inputAt + 1),
  };
  return { reason: "admission", run };
}
