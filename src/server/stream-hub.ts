import type { EngineEvent } from "../core/engine-event.ts";
import type { EntryKind, EntryStatus, RunId, RunStatus } from "../core/types.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { RunRecord } from "../store/store.ts";
import type { ServerLogger } from "./options.ts";
import { type LogLine, toLogLine } from "./wire-logs.ts";

/** One update of the event stream, as sent (`event:` is `type`, `data:` the JSON). */
export type StreamUpdate =
  | {
      type: "run";
      runId: string;
      workflow: string;
      status: RunStatus;
      at: string;
      error?: { name: string; message: string };
    }
  | {
      type: "step";
      runId: string;
      workflow: string;
      key: string;
      kind: EntryKind;
      status: "started" | EntryStatus;
      attempt: number;
      at: string;
      durationMs?: number;
      error?: { name: string; message: string };
    }
  | ({ type: "log"; runId: string } & LogLine);

/** Gets each update with its JSON, serialized once for every stream. */
export type StreamListener = (update: StreamUpdate, json: string) => void;

// The last status sent per run, so a change seen both as a local engine event and by the
// poll goes out once. Bounded: forgetting an old run only risks one repeated update.
const maxRemembered = 10_000;
const pollBatch = 500;
// Listener calls per turn of the event loop: each wakes a stream that then writes to its
// socket, so 500 open streams handed an update at once held the loop for hundreds of ms.
const listenersPerTurn = 100;
// Polls that announcements of ended runs bring forward are at least this far apart: under
// load runs end thousands of times a second, and one poll reads them all.
const announcedPollGapMs = 20;

interface Delivery {
  update: StreamUpdate;
  json: string;
  /** The streams open when the update came, and how many of them have it. */
  listeners: StreamListener[];
  next: number;
}

/**
 * Fans engine updates out to the open event streams. Local engine events arrive at once;
 * changes made by other processes (another worker on the same database) are found by
 * polling the runs' change feed (`listRuns({ updatedAfter })`), only while a stream is open:
 * every `pollMs`, and soon after the store announces that a run ended elsewhere (a client
 * waiting for a run's result through a stream hears of its end in milliseconds, not at
 * the next poll). Steps executed elsewhere are not seen (the feed has runs only).
 */
export class StreamHub {
  readonly #cairn: Cairn;
  readonly #pollMs: number;
  readonly #logger: ServerLogger;
  /** Each open stream's listener, with what ends that stream when the hub closes. */
  readonly #listeners = new Map<StreamListener, () => void>();
  readonly #lastStatus = new Map<string, RunStatus>();
  #timer: NodeJS.Timeout | undefined;
  /** Updates being handed out, in order; the rest of a long fan-out waits for the next turn. */
  readonly #deliveries: Delivery[] = [];
  #nextTurn: NodeJS.Immediate | undefined;
  #cursor = 0;
  #polling = false;
  /** The runs streams are opened for (`?run=`), with how many streams each. */
  readonly #watchedRuns = new Map<string, number>();
  #unfollow: (() => void) | undefined;
  /** A poll brought forward by an announcement, and when the last poll began. */
  #announcedPoll: NodeJS.Timeout | undefined;
  #pollAgain = false;
  #lastPollAt = 0;

  constructor(cairn: Cairn, pollMs: number, logger: ServerLogger) {
    this.#cairn = cairn;
    this.#pollMs = pollMs;
    this.#logger = logger;
  }

  /**
   * Adds a stream; `onClose` ends it on shutdown; `run` names the one run it is for (where
   * the store reads which awaited runs ended, as SQLite does, it reads that one too).
   * Returns the function that removes it.
   */
  subscribe(listener: StreamListener, onClose: () => void = () => {}, run?: string): () => void {
    this.#listeners.set(listener, onClose);
    if (run !== undefined) this.#watchRun(run, 1);
    if (this.#listeners.size === 1) this.#startPolling();
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (run !== undefined) this.#watchRun(run, -1);
      if (this.#listeners.size === 0) this.#stopPolling();
    };
  }

  #watchRun(run: string, change: 1 | -1): void {
    const streams = (this.#watchedRuns.get(run) ?? 0) + change;
    if (streams > 0) this.#watchedRuns.set(run, streams);
    else this.#watchedRuns.delete(run);
  }

  get size(): number {
    return this.#listeners.size;
  }

  /** Called for every local engine event; must be cheap and never throw. */
  observe(event: EngineEvent): void {
    if (
      this.#listeners.size === 0 ||
      event.type === "claim" ||
      event.type === "lease-expired" ||
      event.type === "store-lock" ||
      event.type === "purge"
    )
      return;
    if (event.type === "log") {
      this.#send({ type: "log", runId: event.runId, ...toLogLine(event.entry) });
      return;
    }
    const at = new Date(event.at).toISOString();
    const error = event.error
      ? { name: event.error.name, message: event.error.message }
      : undefined;
    if (event.type === "run") {
      this.#remember(event.runId, event.status);
      this.#send({
        type: "run",
        runId: event.runId,
        workflow: event.workflow,
        status: event.status,
        at,
        ...(error ? { error } : {}),
      });
    } else {
      this.#send({
        type: "step",
        runId: event.runId,
        workflow: event.workflow,
        key: event.key,
        kind: event.kind,
        status: event.status,
        attempt: event.attempt,
        at,
        ...(event.durationMs === undefined ? {} : { durationMs: event.durationMs }),
        ...(error ? { error } : {}),
      });
    }
  }

  /** Stops polling and drops every stream (server shutdown). */
  close(): void {
    this.#stopPolling();
    if (this.#nextTurn !== undefined) clearImmediate(this.#nextTurn);
    this.#nextTurn = undefined;
    this.#deliveries.length = 0;
    const closers = [...this.#listeners.values()];
    this.#listeners.clear();
    for (const close of closers) close();
  }

  #send(update: StreamUpdate): void {
    if (this.#listeners.size === 0) return;
    this.#deliveries.push({
      update,
      json: JSON.stringify(update),
      listeners: [...this.#listeners.keys()],
      next: 0,
    });
    // While a fan-out waits for its next turn, later updates queue behind it (order kept).
    if (this.#nextTurn === undefined) this.#deliver();
  }

  /** Hands out queued updates, at most `listenersPerTurn` calls before letting the loop go. */
  #deliver(): void {
    let calls = 0;
    for (let delivery = this.#deliveries[0]; delivery; delivery = this.#deliveries[0]) {
      while (delivery.next < delivery.listeners.length) {
        if (calls === listenersPerTurn) {
          this.#nextTurn = setImmediate(() => {
            this.#nextTurn = undefined;
            this.#deliver();
          });
          return;
        }
        const listener = delivery.listeners[delivery.next++] as StreamListener;
        calls++;
        // A stream closed since the update came gets nothing.
        if (!this.#listeners.has(listener)) continue;
        try {
          listener(delivery.update, delivery.json);
        } catch (error) {
          this.#logger.warn({ err: error }, "event stream listener failed");
        }
      }
      this.#deliveries.shift();
    }
  }

  #remember(runId: string, status: RunStatus): void {
    this.#lastStatus.delete(runId);
    this.#lastStatus.set(runId, status);
    if (this.#lastStatus.size > maxRemembered) {
      const oldest = this.#lastStatus.keys().next().value;
      if (oldest !== undefined) this.#lastStatus.delete(oldest);
    }
  }

  #startPolling(): void {
    this.#cursor = this.#cairn.clock.now();
    this.#timer = setInterval(() => void this.#poll(), this.#pollMs);
    this.#timer.unref();
    const ends = this.#cairn.ends;
    this.#unfollow = ends.follow(
      () => this.#watchedRuns.keys() as Iterable<RunId>,
      (ids) => this.#announced(ids),
    );
    void ends.start();
  }

  /** Sends a run's status unless it was the last one sent for that run. */
  #report(run: Pick<RunRecord, "id" | "workflow" | "status" | "updatedAt" | "error">): void {
    if (this.#lastStatus.get(run.id) === run.status) return;
    this.#remember(run.id, run.status);
    const error = run.error ? errorSummary(run.error) : undefined;
    this.#send({
      type: "run",
      runId: run.id,
      workflow: run.workflow,
      status: run.status,
      at: new Date(run.updatedAt).toISOString(),
      ...(error ? { error } : {}),
    });
  }

  /**
   * Runs ended elsewhere. A run a stream is open for is read at once: the change feed orders
   * runs by the time their writer stamped, and a run whose end was stamped before a change
   * the feed has already passed (another worker's, or a clock a millisecond behind) would be
   * missed by it. The others come with the next poll, brought forward.
   */
  #announced(ids?: readonly RunId[]): void {
    for (const id of ids ?? [...this.#watchedRuns.keys()]) {
      if (!this.#watchedRuns.has(id)) continue;
      this.#cairn.store.getRun(id as RunId).then(
        (run) => run && this.#report(run),
        (error) => this.#logger.warn({ err: error }, "event stream read of an ended run failed"),
      );
    }
    this.#pollSoon();
  }

  /** A run ended elsewhere: poll now, or once the poll in flight and the gap are over. */
  #pollSoon(): void {
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    if (this.#announcedPoll !== undefined || this.#timer === undefined) return;
    const wait = Math.max(0, this.#lastPollAt + announcedPollGapMs - performance.now());
    this.#announcedPoll = setTimeout(() => {
      this.#announcedPoll = undefined;
      void this.#poll();
    }, wait);
    this.#announcedPoll.unref();
  }

  #stopPolling(): void {
    this.#unfollow?.();
    this.#unfollow = undefined;
    clearTimeout(this.#announcedPoll);
    this.#announcedPoll = undefined;
    this.#pollAgain = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    this.#pollAgain = false;
    this.#lastPollAt = performance.now();
    try {
      // `updatedAfter` is exclusive and many changes can share a millisecond (a test clock
      // shares all of them), so ask from one ms before the cursor and skip what was sent.
      const runs = await this.#cairn.listRuns({ updatedAfter: this.#cursor - 1, limit: pollBatch });
      let newest = this.#cursor;
      for (const run of runs) {
        newest = Math.max(newest, run.updatedAt);
        this.#report(run);
      }
      // A full batch all in one millisecond would be read again forever: step past it.
      this.#cursor = runs.length === pollBatch && newest === this.#cursor ? newest + 1 : newest;
    } catch (error) {
      this.#logger.warn({ err: error }, "event stream poll failed");
    } finally {
      this.#polling = false;
      if (this.#pollAgain) this.#pollSoon();
    }
  }
}

function errorSummary(text: string): { name: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(text) as { name?: unknown; message?: unknown };
    return { name: String(parsed.name ?? "Error"), message: String(parsed.message ?? "") };
  } catch {
    return undefined;
  }
}
