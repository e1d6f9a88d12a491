import type { Duration } from "../core/duration.ts";
import { RunCancelledError } from "../core/errors.ts";
import { observed } from "../core/observed.ts";
import type { RunHandle, RunInfo, StartOptions } from "../core/run-info.ts";
import { deserializeError } from "../core/serializer.ts";
import { isTerminal, type RunId } from "../core/types.ts";
import type { Workflow } from "../core/workflow.ts";
import { RemoteCairnError } from "./remote-error.ts";
import { RemoteFlows } from "./remote-flows.ts";
import { type ConnectOptions, Transport } from "./transport.ts";
import {
  fromPayload,
  type RunPage,
  toPayload,
  toRunInfo,
  type WireRun,
  type WireRunResult,
  type WireStartedRun,
} from "./wire.ts";
import type {
  BulkResult,
  LogPage,
  PurgeResult,
  RemoteBulkRequest,
  RemoteUpdate,
} from "./wire-operations.ts";

export type { ConnectOptions } from "./transport.ts";

/** Filters of {@link RemoteCairn.listRuns}. */
export interface RemoteRunFilter {
  workflow?: string;
  status?: RunInfo["status"];
  /** Runs created at or after this time. */
  createdAfter?: Date | number;
  /** Runs created before this time. */
  createdBefore?: Date | number;
  /** `key:value`: runs carrying every one of these tags. */
  tag?: readonly string[];
  /** `input.customer.id:c-17`: runs whose input/output holds these values (a bounded scan). */
  where?: readonly string[];
  /** Page size, 1–200. (Default: 50) */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

// One wait of `result()` on the server's result route, and the least time between asks.
const maxResultWaitMs = 30_000;
const minResultWaitMs = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// `result()` re-reads the run at least this often, so it finishes even if the stream is
// cut or a proxy buffers it.
const maxPollMs = 2_000;

/**
 * A Cairn server seen through its HTTP API, with the embedded API's shape: `start` returns a
 * handle whose `result()` waits for the run, errors are {@link RemoteCairnError}s
 * (`CairnError`s) with the server's codes, and a server that does not answer at all is a
 * {@link RemoteUnavailableError} naming the URL and the cause. Made by {@link connect}.
 */
export class RemoteCairn {
  /** The server's base URL. */
  readonly url: string;
  /** Deployed flows: deploy, list, get, versions. */
  readonly flows: RemoteFlows;
  readonly #transport: Transport;

  constructor(url: string, options: ConnectOptions = {}) {
    this.#transport = new Transport(url, options);
    this.url = this.#transport.url;
    this.flows = new RemoteFlows(this.#transport);
  }

  /**
   * Starts a run of a workflow (by definition or name), or returns the existing run when
   * `options.id` is taken (G5; `created: false`, and `inputMatches: false` when its input
   * differs from this one). @throws CairnError `WORKFLOW_NOT_FOUND`, `INVALID_INPUT`, …
   */
  async start<I, O>(
    workflow: Workflow<I, O> | string,
    input: I,
    options: StartOptions<I> = {},
  ): Promise<RunHandle<O>> {
    const name = typeof workflow === "string" ? workflow : workflow.name;
    const { idempotency } = options;
    const { body } = await this.#transport.request<WireStartedRun>("POST", "/api/v1/runs", {
      workflow: name,
      ...toPayload(input, "input"),
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.tags === undefined ? {} : { tags: options.tags }),
      // A key function runs here, on the input as given; the server gets the key.
      ...(idempotency === undefined
        ? {}
        : {
            idempotency: {
              key: String(
                typeof idempotency.key === "function" ? idempotency.key(input) : idempotency.key,
              ),
              ttl: idempotency.ttl,
            },
          }),
    });
    return this.#handle<O>(body.id as RunId, body.workflow, body.created, body.inputMatches);
  }

  /** A handle to an existing run. */
  handle<O = unknown>(runId: string): RunHandle<O> {
    return this.#handle<O>(runId as RunId, "", false);
  }

  /** The run's status, steps and outcome. @throws CairnError `RUN_NOT_FOUND` */
  async getRun<O = unknown>(runId: string): Promise<RunInfo<O>> {
    const { body } = await this.#transport.request<WireRun>("GET", runPath(runId));
    return toRunInfo<O>(body);
  }

  /** A page of runs, newest first. */
  async listRuns(filter: RemoteRunFilter = {}): Promise<RunPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const one of value) query.append(key, String(one));
      else query.set(key, value instanceof Date ? value.toISOString() : String(value));
    }
    const search = query.size > 0 ? `?${query}` : "";
    return (await this.#transport.request<RunPage>("GET", `/api/v1/runs${search}`)).body;
  }

  /**
   * Sends an event; a repeated `id` is a no-op reported as `duplicate`. `started` lists the
   * runs the event triggered, `woke` the waiting runs it resumed.
   */
  async sendEvent(
    name: string,
    data?: unknown,
    options: { id?: string } = {},
  ): Promise<{ id: string; duplicate: boolean; started: string[]; woke: string[] }> {
    const { body } = await this.#transport.request<{
      id: string;
      duplicate: boolean;
      started?: string[];
      woke?: string[];
    }>("POST", "/api/v1/events", {
      name,
      ...toPayload(data, "data"),
      ...(options.id === undefined ? {} : { id: options.id }),
    });
    return {
      id: body.id,
      duplicate: body.duplicate,
      started: body.started ?? [],
      woke: body.woke ?? [],
    };
  }

  /** Sends a signal to one run. @throws CairnError `RUN_NOT_FOUND`, `RUN_NOT_ACTIVE` */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    await this.#transport.request("POST", `${runPath(runId)}/signals/${encodeURIComponent(name)}`, {
      ...toPayload(payload, "payload"),
    });
  }

  /** Cancels a run and its children; a finished run is left as it is. */
  async cancel(runId: string): Promise<void> {
    await this.#transport.request("POST", `${runPath(runId)}/cancel`);
  }

  /** Retries a failed or cancelled run from its last checkpoint. @throws `INVALID_STATE` */
  async retry(runId: string): Promise<RunHandle> {
    const { body } = await this.#transport.request<WireRun>("POST", `${runPath(runId)}/retry`);
    return this.#handle(body.id as RunId, body.workflow, false);
  }

  /**
   * Cancels or retries every run a selection (or a list of ids) picks; with `dryRun`, only
   * counts them. @example await remote.bulk({ action: "cancel", filter: { workflow: "charge", status: "waiting" } })
   */
  async bulk(request: RemoteBulkRequest): Promise<BulkResult> {
    return (await this.#transport.request<BulkResult>("POST", "/api/v1/runs/bulk", request)).body;
  }

  /**
   * A new run of the same workflow that reuses `runId`'s journal before step `fromStep` and
   * executes from that step on, with the original input or `options.input`.
   * @throws CairnError `RUN_NOT_FOUND`, `INVALID_ARGUMENT`, `INVALID_INPUT`
   */
  async rerun(
    runId: string,
    options: { fromStep: string; input?: unknown; id?: string },
  ): Promise<RunHandle> {
    const { body } = await this.#transport.request<WireRun>("POST", `${runPath(runId)}/rerun`, {
      fromStep: options.fromStep,
      ...("input" in options ? toPayload(options.input, "input") : {}),
      ...(options.id === undefined ? {} : { id: options.id }),
    });
    return this.#handle(body.id as RunId, body.workflow, true);
  }

  /**
   * Retention: deletes finished runs that finished more than `olderThan` ago ("30d", ms),
   * with their journals, and answers once done. Needs an admin token. Unlike the embedded
   * `purgeRuns`, it also says which cut-off the server's clock gave.
   */
  async purgeRuns(olderThan: Duration): Promise<PurgeResult> {
    const { body } = await this.#transport.request<{ purged: number; before: string }>(
      "POST",
      "/api/v1/runs/purge",
      { olderThan },
    );
    return { purged: body.purged, before: new Date(body.before) };
  }

  /** A page of a run's log lines, oldest first, after `afterSeq`. @throws `RUN_NOT_FOUND` */
  async runLogs(
    runId: string,
    options: { afterSeq?: number; limit?: number; step?: string } = {},
  ): Promise<LogPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) {
      if (value !== undefined) query.set(key, String(value));
    }
    const search = query.size > 0 ? `?${query}` : "";
    return (await this.#transport.request<LogPage>("GET", `${runPath(runId)}/logs${search}`)).body;
  }

  /**
   * Listens to the server's run and step updates (all runs, or only `options.run`'s, which
   * starts with its current status). Resolves, with the function that stops listening, once
   * the server accepted the stream, so no later update is missed. A stream that breaks
   * just stops: re-read the run (`getRun`) for the truth.
   */
  async subscribe(
    listener: (update: RemoteUpdate) => void,
    options: { run?: string; signal?: AbortSignal } = {},
  ): Promise<() => void> {
    const stop = new AbortController();
    // Node 20.0–20.2 have no AbortSignal.any.
    if (options.signal?.aborted) stop.abort();
    options.signal?.addEventListener("abort", () => stop.abort(), { once: true });
    const search = options.run === undefined ? "" : `?run=${encodeURIComponent(options.run)}`;
    await this.#transport.stream(
      `/api/v1/stream${search}`,
      (event) => {
        let update: RemoteUpdate;
        try {
          update = JSON.parse(event.data) as RemoteUpdate;
        } catch {
          return; // not an update of this server's
        }
        listener(update);
      },
      stop.signal,
    );
    return () => stop.abort();
  }

  #handle<O>(id: RunId, workflow: string, created: boolean, inputMatches = true): RunHandle<O> {
    return {
      id,
      workflow,
      created,
      inputMatches,
      // The outcome goes to whoever awaits it, even if it settles before they do.
      result: () => observed(this.#awaitResult<O>(id)),
      info: () => this.getRun<O>(id),
    };
  }

  /**
   * Waits for the run's result with the server's long poll (`GET /runs/{id}/result`), asking
   * again when a wait ends first: one request, answered at the run's end. A server without
   * that route (from before it) is followed on its event stream instead.
   */
  async #awaitResult<O>(id: RunId): Promise<O> {
    // Within a request timeout the caller set, so that a wait is not taken for a dead server.
    const timeoutMs = this.#transport.timeoutMs;
    const waitMs = Math.min(maxResultWaitMs, Math.floor((timeoutMs ?? Infinity) / 2));
    for (;;) {
      let result: WireRunResult;
      try {
        ({ body: result } = await this.#transport.request<WireRunResult>(
          "GET",
          `${runPath(id)}/result?waitMs=${waitMs}`,
        ));
      } catch (error) {
        const noRoute =
          error instanceof RemoteCairnError &&
          error.status === 404 &&
          error.code !== "RUN_NOT_FOUND";
        if (noRoute) return this.#result<O>(id);
        throw error;
      }
      if (isTerminal(result.status)) {
        const output = fromPayload(result.output, result.outputMeta) as O | undefined;
        return outcomeOf<O>({ ...result, id: result.runId as RunId, output });
      }
      // Short waits (a short request timeout) must not become a busy loop of requests.
      if (waitMs < minResultWaitMs) await sleep(minResultWaitMs - waitMs);
    }
  }

  /**
   * Waits on the event stream for the run's updates, re-reading the run after each and at
   * least every {@link maxPollMs}; returns its output or throws its recorded error.
   */
  async #result<O>(id: RunId): Promise<O> {
    const abort = new AbortController();
    let notify: (() => void) | undefined;
    // An update that arrives while the run is being read must not wait for the next poll.
    let updated = false;
    void this.#watch(id, abort.signal, () => {
      updated = true;
      notify?.();
    });
    try {
      let pollMs = 100;
      for (;;) {
        updated = false;
        const info = await this.getRun<O>(id);
        // A run that continued as new: its result is the last run's of the chain.
        if (info.status === "completed" && info.continuedTo) return this.#result(info.continuedTo);
        if (isTerminal(info.status)) return outcomeOf(info);
        if (updated) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          notify = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        notify = undefined;
        pollMs = Math.min(pollMs * 2, maxPollMs);
      }
    } finally {
      abort.abort();
    }
  }

  /** Calls `onUpdate` for every stream update of run `id`; gives up quietly on failure. */
  async #watch(id: RunId, signal: AbortSignal, onUpdate: () => void): Promise<void> {
    try {
      await this.subscribe((update) => update.type === "run" && onUpdate(), { run: id, signal });
    } catch {
      // Polling alone still finishes `result()`.
    }
  }
}

const runPath = (id: string) => `/api/v1/runs/${encodeURIComponent(id)}`;

function outcomeOf<O>(info: Pick<RunInfo<O>, "id" | "status" | "output" | "error">): O {
  if (info.status === "completed") return info.output as O;
  if (info.status === "cancelled") throw new RunCancelledError(info.id);
  // The run's own error class, name and message, as the embedded `result()` throws it.
  throw deserializeError(JSON.stringify(info.error ?? { name: "Error", message: "unknown error" }));
}
