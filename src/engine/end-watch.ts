import { ensureError } from "../core/errors.ts";
import { isTerminal, type RunId } from "../core/types.ts";
import type { RunOutcome, RunRecord, Store } from "../store/store.ts";
import type { EventBus } from "./event-bus.ts";

const retryMs = 5_000;

/** Another consumer of the announcements (the server's event streams). */
interface Follower {
  /** Runs it waits for, besides the bus's `result()` waiters (SQLite reads only those). */
  awaited: () => Iterable<RunId>;
  onEnded: (ids?: readonly RunId[]) => void;
}

/**
 * Wakes `result()` waiters of runs that end in other processes. Without it such a waiter
 * learned of the end at its next read of the store: 50 ms after it began waiting, backing off
 * to once a second. The store's announcements of ended runs (`watchEnds`) become finish
 * notices on this process's bus: with the outcome where the announcement carries it (the
 * waiter returns at once), else without (the waiter reads the run at once).
 * Started by the first wait for a run that does not execute here, kept until the engine
 * closes (on PostgreSQL, one dedicated connection).
 */
export class EndWatch {
  readonly #store: Store;
  readonly #bus: EventBus;
  readonly #onError: (error: Error, context: string) => void;
  /** Set once watching starts; unset again if it failed. */
  #started: Promise<void> | undefined;
  #stop: (() => Promise<void>) | undefined;
  #closed = false;
  readonly #followers = new Set<Follower>();
  /** After a failed start, when the next wait may try again (ms, `performance.now()`). */
  #retryAt = 0;

  constructor(store: Store, bus: EventBus, onError: (error: Error, context: string) => void) {
    this.#store = store;
    this.#bus = bus;
    this.#onError = onError;
  }

  /** Starts watching, once; resolves when the watch listens (or could not start). */
  async start(): Promise<void> {
    if (this.#closed || !this.#store.watchEnds) return;
    if (!this.#started && performance.now() < this.#retryAt) return;
    this.#started ??= this.#watch();
    await this.#started;
  }

  /**
   * Makes sure this process hears the end of run `id`, for a caller that reads the run its own
   * way afterwards: the watch listens, and the store announces that run's end. A store that
   * cannot leaves the caller to its poll.
   */
  async watch(id: RunId): Promise<void> {
    await this.start();
    if (this.#closed || !this.#started) return;
    try {
      // The request alone where the store has it: the caller's own read follows.
      if (this.#store.announceEnd) await this.#store.announceEnd(id);
      else await this.#store.getRunAnnouncingEnd?.(id);
    } catch {
      // The caller's own read of the run reports a store that is down; its poll covers the rest.
    }
  }

  /**
   * Reads run `id` for a waiter that will hear its end from this watch, once listening: where
   * the store announces only some runs' ends, the read asks for this one's (see
   * `getRunAnnouncingEnd`). A store that cannot announce, or a watch that could not start,
   * leaves the waiter to its poll.
   */
  async readWatched(id: RunId): Promise<RunRecord | undefined> {
    const announcing = this.#store.getRunAnnouncingEnd;
    if (!announcing || this.#closed || !this.#started) {
      await this.watch(id); // a store that asks with a request of its own, if any
      return this.#store.getRun(id);
    }
    const { run, announced } = await announcing.call(this.#store, id);
    // Ended while the read waited for the run's row: announced to nobody, so read it again.
    if (run && !announced && !isTerminal(run.status)) return this.#store.getRun(id);
    return run;
  }

  /**
   * Calls `onEnded` with every announcement from now on (after `start`), and counts the
   * runs of `awaited` as awaited. Returns the function that stops following.
   */
  follow(awaited: () => Iterable<RunId>, onEnded: (ids?: readonly RunId[]) => void): () => void {
    const follower = { awaited, onEnded };
    this.#followers.add(follower);
    return () => {
      this.#followers.delete(follower);
    };
  }

  /** Stops watching; a watch still starting (a database that does not answer) stops itself. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#stop?.();
  }

  async #watch(): Promise<void> {
    try {
      const stop = await this.#store.watchEnds?.(
        (ids, outcomes) => this.#ended(ids, outcomes),
        () => this.#awaited(),
      );
      if (this.#closed) {
        await stop?.();
        return;
      }
      this.#stop = stop;
      // A run that ended while the watch was being set up was announced to nobody.
      this.#ended();
    } catch (error) {
      // The waiters poll meanwhile; a wait a few seconds later tries again.
      this.#started = undefined;
      this.#retryAt = performance.now() + retryMs;
      if (!this.#closed) {
        this.#onError(ensureError(error), "watching for runs that end in other processes");
      }
    }
  }

  #awaited(): RunId[] {
    const runs = this.#bus.awaitedRuns();
    if (this.#followers.size === 0) return runs;
    const all = new Set(runs);
    for (const follower of this.#followers) for (const id of follower.awaited()) all.add(id);
    return [...all];
  }

  #ended(ids?: readonly RunId[], outcomes?: ReadonlyMap<RunId, RunOutcome>): void {
    for (const id of ids ?? this.#bus.awaitedRuns()) this.#bus.finished(id, outcomes?.get(id));
    for (const follower of this.#followers) {
      try {
        follower.onEnded(ids);
      } catch (error) {
        this.#onError(ensureError(error), "handing on the end of runs");
      }
    }
  }
}
