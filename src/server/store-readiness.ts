import { Gauge, type Registry } from "prom-client";
import type { EngineEvent } from "../core/engine-event.ts";
import { ensureError } from "../core/errors.ts";
import type { AdminStore } from "../store/admin-store.ts";
import type { ServerLogger } from "./server-logger.ts";

/** What readiness watches of the journal writer: its commits and how long one has waited. */
interface CommitWatch {
  onCommit(listener: (error: Error | undefined) => void): () => void;
  readonly committingSince: number | null;
}

export interface ReadinessOptions {
  /** How long writes may fail or hang before `/readyz` turns 503, in ms. (Default: 5_000) */
  thresholdMs?: number;
  /** How often the write probe runs when nothing else proved a write, in ms. (Default: 1_000) */
  probeIntervalMs?: number;
  /** Hears each transition, after it is logged and the gauge set. */
  onChange?(ready: boolean, reason: string): void;
}

/**
 * Whether the store takes writes, from the outcome of real ones: the journal writer's
 * commits and the worker's claims (an engine `claim` event) prove or disprove it; when none
 * succeeded for an interval, a probe writes one row of `write_probes`. A write that failed
 * or has been pending (a probe or a journal commit) for `thresholdMs`
 * makes the store unready until a write succeeds again; so does a wait for another process's
 * write lock past `thresholdMs` (SQLite's `store-lock` event), until the lock is acquired. Time here is real elapsed time
 * (`performance.now()`), not the engine's clock: a test clock must not fake an outage.
 */
export class StoreReadiness {
  readonly #store: Pick<AdminStore, "probeWrite">;
  readonly #logger: ServerLogger;
  readonly #thresholdMs: number;
  readonly #intervalMs: number;
  readonly #onChange: ReadinessOptions["onChange"];
  readonly #gauge: Gauge;
  #ready = true;
  /** Since when writes have failed, or null while they succeed. */
  #failingSince: number | null = null;
  #lastError: Error | undefined;
  /** Since when the current probe has been waiting, or null when none is. */
  #probeSince: number | null = null;
  #lastSuccess = performance.now();
  /** Since when a write has waited for another process's lock (a `store-lock` event), or null. */
  #lockWaitSince: number | null = null;
  #lockHolder = "";
  #timer: NodeJS.Timeout | undefined;

  readonly #writer: CommitWatch;
  readonly #stopListening: () => void;

  constructor(
    store: Pick<AdminStore, "probeWrite">,
    writer: CommitWatch,
    registry: Registry,
    logger: ServerLogger,
    options: ReadinessOptions,
  ) {
    this.#store = store;
    this.#writer = writer;
    this.#stopListening = writer.onCommit((error) =>
      error ? this.#failed(error) : this.#succeeded(),
    );
    this.#logger = logger;
    this.#thresholdMs = options.thresholdMs ?? 5_000;
    this.#intervalMs = options.probeIntervalMs ?? 1_000;
    this.#onChange = options.onChange;
    this.#gauge = new Gauge({
      name: "cairn_ready",
      help: "1 while the store takes writes (what /readyz reports), 0 while it does not.",
      registers: [registry],
    });
    this.#gauge.set(1);
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Why the store is not ready, for the 503's log line; never sent to callers. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  observe(event: EngineEvent): void {
    if (event.type === "claim") this.#succeeded();
    if (event.type === "store-lock") {
      if (event.state === "waiting") {
        this.#lockWaitSince = performance.now() - event.waitedMs;
        this.#lockHolder =
          event.holderPid === undefined ? "another process" : `pid ${event.holderPid}`;
      } else this.#lockWaitSince = null;
      this.#evaluate(performance.now());
    }
  }

  close(): void {
    this.#stopListening();
    clearInterval(this.#timer);
  }

  #tick(): void {
    const now = performance.now();
    if (this.#probeSince === null && now - this.#lastSuccess >= this.#intervalMs) this.#probe();
    this.#evaluate(now);
  }

  #probe(): void {
    this.#probeSince = performance.now();
    Promise.resolve()
      .then(() => this.#store.probeWrite(Date.now()))
      .then(
        () => this.#succeeded(),
        (error: unknown) => this.#failed(ensureError(error)),
      )
      .finally(() => {
        this.#probeSince = null;
      });
  }

  #succeeded(): void {
    this.#lastSuccess = performance.now();
    this.#failingSince = null;
    this.#lastError = undefined;
    this.#evaluate(this.#lastSuccess);
  }

  #failed(error: Error): void {
    this.#failingSince ??= performance.now();
    this.#lastError = error;
    this.#evaluate(performance.now());
  }

  #evaluate(now: number): void {
    const failedFor = this.#failingSince === null ? -1 : now - this.#failingSince;
    const pendingSince = Math.min(
      this.#probeSince ?? Number.POSITIVE_INFINITY,
      this.#writer.committingSince ?? Number.POSITIVE_INFINITY,
      this.#lockWaitSince ?? Number.POSITIVE_INFINITY,
    );
    const pendingFor = pendingSince === Number.POSITIVE_INFINITY ? -1 : now - pendingSince;
    const ready = failedFor < this.#thresholdMs && pendingFor <= this.#thresholdMs;
    if (ready === this.#ready) return;
    const since = Math.max(failedFor, pendingFor);
    this.#ready = ready;
    this.#gauge.set(ready ? 1 : 0);
    const locked =
      this.#lockWaitSince !== null && now - this.#lockWaitSince >= this.#thresholdMs
        ? ` (the database's write lock is held by ${this.#lockHolder})`
        : "";
    const reason = ready
      ? "the store takes writes again"
      : `the store has not completed a write for ${Math.round(since)} ms${locked}`;
    if (ready) this.#logger.info({ ready }, `readiness: ready (${reason})`);
    else this.#logger.error({ ready, err: this.#lastError }, `readiness: not ready (${reason})`);
    this.#onChange?.(ready, reason);
  }
}
