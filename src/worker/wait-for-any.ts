import type { Clock } from "../core/clock.ts";
import { toMs } from "../core/duration.ts";
import type { AnyOutcome, WaitForAnyOptions } from "../core/workflow.ts";
import type { WaitRegistration } from "../store/store.ts";
import type { Claim, RunJournal } from "./run-journal.ts";

/** What the wait needs of its run (a part of RunWaits' host). */
export interface AnyWaitHost {
  readonly clock: Clock;
  readonly journal: RunJournal;
  claim(kind: "any", name: string): Claim;
  checkName(what: string, value: unknown): void;
}

/**
 * `ctx.waitForAny`: one journal position that the store resolves with the first of several
 * events and signals (recorded as `{ kind, name, data }`), or `null` at the timeout. The
 * store withdraws the other alternatives in the same transaction, so nothing that arrives
 * later is taken by this position. A replay returns the recorded outcome.
 */
export async function waitForAny<T>(
  host: AnyWaitHost,
  register: (wait: WaitRegistration) => Promise<never>,
  name: string,
  options: WaitForAnyOptions,
): Promise<AnyOutcome<T> | null> {
  const { key, position, recorded } = host.claim("any", name);
  if (recorded?.status === "completed") {
    return (await host.journal.replayed<AnyOutcome<T> | null>(recorded)) ?? null;
  }
  const { events, signals } = checkAlternatives(host, key, options);
  const timeoutAt = recorded
    ? recorded.wakeAt
    : options.timeout === undefined
      ? null
      : host.clock.now() + toMs(options.timeout, `timeout of waitForAny "${key}"`);
  return register({ kind: "any", position, key, events, signals, timeoutAt });
}

/** The alternatives in the form the store keeps, after checking what the caller passed. */
function checkAlternatives(host: AnyWaitHost, key: string, options: WaitForAnyOptions) {
  const where = `waitForAny("${key}")`;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${where} needs options: { events?, signals?, timeout? }.`);
  }
  const events = options.events ?? [];
  const signals = options.signals ?? [];
  if (!Array.isArray(events)) throw new TypeError(`${where}: \`events\` must be an array.`);
  if (!Array.isArray(signals)) throw new TypeError(`${where}: \`signals\` must be an array.`);
  if (events.length + signals.length === 0) {
    throw new TypeError(`${where} needs at least one event or signal to wait for.`);
  }
  const checked = events.map((alternative, i) => {
    if (alternative === null || typeof alternative !== "object") {
      throw new TypeError(`${where}: events[${i}] must be { event, match? }.`);
    }
    host.checkName(`event name (events[${i}] of ${where})`, alternative.event);
    const { match } = alternative;
    if (match !== undefined && (match === null || typeof match !== "object")) {
      throw new TypeError(`${where}: events[${i}].match must be an object of fields.`);
    }
    return { event: alternative.event, match: match ?? null };
  });
  for (const [i, signal] of signals.entries()) {
    host.checkName(`signal name (signals[${i}] of ${where})`, signal);
  }
  return { events: checked, signals: [...signals] };
}
