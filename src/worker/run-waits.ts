import type { Clock } from "../core/clock.ts";
import { type Duration, toMs } from "../core/duration.ts";
import type { ReceivedEvent } from "../core/events.ts";
import type { RunId } from "../core/types.ts";
import type { WaitForAnyOptions, WaitForEventOptions, Workflow } from "../core/workflow.ts";
import type { ClaimedRun, WaitRegistration } from "../store/store.ts";
import { childRunId } from "./child-run-id.ts";
import type { ExecutionEnv } from "./execution-env.ts";
import type { Claim, RunJournal } from "./run-journal.ts";
import { StoreFailure } from "./store-failure.ts";
import { waitForAny } from "./wait-for-any.ts";

/** A promise that never settles: a call blocked until the run suspends (and is dropped). */
export const never = <T>() => new Promise<T>(() => {});

/** What the waits need from their run: the calls that touch the run's shared state. */
export interface WaitHost {
  readonly claimed: ClaimedRun;
  readonly clock: Clock;
  readonly journal: RunJournal;
  readonly startChild: ExecutionEnv["startChild"];
  /** Claims the next journal position (or throws if the run may not go on). */
  claim(kind: "sleep" | "event" | "signal" | "invoke" | "any", name: string): Claim;
  /** Stops this execution without an outcome; the run resumes from its journal elsewhere. */
  abort(reason: Error): void;
  /** Counts work in flight (+1) or no longer (-1): a run with some may not suspend. */
  track(delta: 1 | -1): void;
  /** Asks the run to check, soon, whether it should suspend or hand itself back. */
  scheduleCheck(): void;
  throwIfStopped(): void;
  /** Throws, failing the run, when `value` is no valid name (see core/names.ts). */
  checkName(what: string, value: unknown): void;
}

/**
 * The calls that block the workflow on something outside it (sleep, event, signal, child
 * run) and the waits they registered. A wait is not kept in memory: once every branch of
 * the workflow is blocked, the run suspends with these registrations and replays on resume.
 */
export class RunWaits {
  readonly #host: WaitHost;
  #waits: WaitRegistration[] = [];

  constructor(host: WaitHost) {
    this.#host = host;
  }

  /** What the run waits for, to record when it suspends. */
  get registered(): WaitRegistration[] {
    return this.#waits;
  }

  /** When the run is next due to wake: its earliest wake-up, timeout or deadline. */
  availableAt(): number | null {
    const dueTimes = this.#waits.map((w) =>
      w.kind === "sleep" || w.kind === "retry"
        ? w.wakeAt
        : w.kind === "invoke"
          ? null
          : w.timeoutAt,
    );
    const { deadlineAt } = this.#host.claimed.run;
    if (deadlineAt !== null) dueTimes.push(deadlineAt);
    const due = dueTimes.filter((t): t is number => t !== null);
    return due.length > 0 ? Math.min(...due) : null;
  }

  /** Registers a wait; the returned promise never settles (the run suspends instead). */
  waitFor<T>(wait: WaitRegistration): Promise<T> {
    this.#waits.push(wait);
    this.#host.scheduleCheck();
    return never();
  }

  sleep(name: string, duration: Duration): Promise<void> {
    const ms = toMs(duration, `duration of sleep "${name}"`);
    return this.#sleep(name, () => this.#host.clock.now() + ms);
  }

  sleepUntil(name: string, until: Date | number): Promise<void> {
    const at = until instanceof Date ? until.getTime() : until;
    if (!Number.isFinite(at))
      throw new TypeError(`sleepUntil("${name}") needs a valid Date or epoch ms.`);
    return this.#sleep(name, () => at);
  }

  async #sleep(name: string, wakeAt: () => number): Promise<void> {
    const { key, position, recorded } = this.#host.claim("sleep", name);
    if (recorded?.status === "completed") return this.#host.journal.replayed(recorded);
    const at = recorded?.wakeAt ?? wakeAt();
    if (!recorded && at <= this.#host.clock.now()) return;
    return this.waitFor({ kind: "sleep", position, key, wakeAt: at });
  }

  async waitForEvent<T = unknown>(
    name: string,
    options: WaitForEventOptions,
  ): Promise<ReceivedEvent<T> | null> {
    if (!options) throw new TypeError(`waitForEvent("${name}") needs an \`event\` name.`);
    const { key, position, recorded } = this.#host.claim("event", name);
    this.#host.checkName(`event name (of waitForEvent "${key}")`, options.event);
    if (recorded?.status === "completed") return this.#host.journal.replayed(recorded);
    const timeoutAt = recorded ? recorded.wakeAt : this.#timeoutAt(options.timeout, name);
    return this.waitFor({
      kind: "event",
      position,
      key,
      event: options.event,
      match: options.match ?? null,
      timeoutAt,
    });
  }

  async waitForSignal<T = unknown>(
    name: string,
    options: { timeout?: Duration } = {},
  ): Promise<T | null> {
    const { key, position, recorded } = this.#host.claim("signal", name);
    if (recorded?.status === "completed") {
      return (await this.#host.journal.replayed<T | null>(recorded)) ?? null;
    }
    const timeoutAt = recorded ? recorded.wakeAt : this.#timeoutAt(options.timeout, name);
    return this.waitFor({ kind: "signal", position, key, signal: name, timeoutAt });
  }

  waitForAny<T = unknown>(name: string, options: WaitForAnyOptions) {
    return waitForAny<T>(this.#host, (wait) => this.waitFor(wait), name, options);
  }

  async invoke<I, O>(
    name: string,
    workflow: Workflow<I, O>,
    input: I,
    options: { id?: string } = {},
  ): Promise<O> {
    const host = this.#host;
    const { key, position, recorded } = host.claim("invoke", name);
    if (recorded?.status === "completed" || recorded?.status === "failed") {
      return host.journal.replayed<O>(recorded);
    }
    if (!recorded && options.id !== undefined) host.checkName("child run id", options.id);
    const childId = (
      recorded?.detail
        ? (JSON.parse(recorded.detail) as { childId: string }).childId
        : (options.id ?? childRunId(host.claimed.run.id, key))
    ) as RunId;
    if (!recorded) {
      // Counted as in flight so the run cannot suspend before its child exists.
      host.track(1);
      try {
        await host.journal.flushPending();
        host.throwIfStopped();
        await host.startChild({
          parent: host.claimed,
          position,
          childId,
          workflow: workflow as Workflow<unknown, unknown>,
          input,
        });
      } catch (error) {
        // The child's creation failed in the store, not in the workflow: stop, resume later.
        if (error instanceof StoreFailure) host.abort(error);
        throw error;
      } finally {
        host.track(-1);
      }
    }
    return this.waitFor({ kind: "invoke", position, key, childId });
  }

  #timeoutAt(timeout: Duration | undefined, name: string): number | null {
    return timeout === undefined
      ? null
      : this.#host.clock.now() + toMs(timeout, `timeout of "${name}"`);
  }
}
