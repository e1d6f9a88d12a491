import type { Clock } from "../core/clock.ts";
import type { RunJournal } from "./run-journal.ts";

/** What `ctx.patched` needs of its run. */
export interface PatchHost {
  clock: Clock;
  journal: RunJournal;
  throwIfStopped(): void;
  checkName(what: string, value: unknown): void;
}

/** A patch marker's journal key: apart from step keys, which may use the same name. */
export function patchKey(id: string): string {
  return `patch:${id}`;
}

/**
 * `ctx.patched` and `ctx.deprecatePatch` of one execution.
 *
 * A marker is a journal entry (`kind: "patch"`) taking one position. At a patch point:
 * - the journal holds this patch's marker there → the run passed here under the patched
 *   code: take the position, `true`;
 * - the history goes on past this point without the marker → the run passed here under
 *   the old code: take nothing (the old code's calls keep their positions), `false`;
 * - the history ends before this point → the run gets here for the first time, under the
 *   patched code: journal the marker, `true`.
 * The answer is kept per id for the rest of the execution, so a patch asked in a loop
 * answers alike and journals one marker.
 */
export class RunPatches {
  readonly #host: PatchHost;
  readonly #decided = new Map<string, boolean>();

  constructor(host: PatchHost) {
    this.#host = host;
  }

  patched(id: string): boolean {
    const known = this.#decided.get(id);
    if (known !== undefined) return known;
    const host = this.#host;
    host.throwIfStopped();
    host.checkName("patch id", id);
    const key = patchKey(id);
    const { recorded, replaying } = host.journal.peek();
    let result = true;
    if (recorded?.kind === "patch" && recorded.key === key) host.journal.take(key);
    else if (replaying) result = false;
    else this.#record(key);
    this.#decided.set(id, result);
    return result;
  }

  deprecatePatch(id: string): void {
    if (this.#decided.has(id)) return;
    const host = this.#host;
    host.throwIfStopped();
    host.checkName("patch id", id);
    const key = patchKey(id);
    const { recorded } = host.journal.peek();
    // A run that journaled the marker replays it; any other run journals nothing here.
    if (recorded?.kind === "patch" && recorded.key === key) host.journal.take(key);
    this.#decided.set(id, true);
  }

  #record(key: string): void {
    const { journal, clock } = this.#host;
    journal.recordInstant(journal.take(key).position, key, "patch", null, clock);
  }
}
