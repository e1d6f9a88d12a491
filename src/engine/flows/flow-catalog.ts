import { CairnError, ensureError } from "../../core/errors.ts";
import type { ScriptLanguage } from "../../core/flow/flow-schema.ts";
import type { Workflow, WorkflowContext } from "../../core/workflow.ts";
import type { FlowStore, FlowVersionRecord } from "../../store/flow-store.ts";
import type { RunStore } from "../../store/run-store.ts";
import { interpreterFor } from "../../worker/script/interpreters.ts";
import { type CompiledFlow, compileFlow } from "./compiled-flow.ts";
import type { FlowAction, FlowOptions, FlowServices } from "./flow-services.ts";
import { flowStepWorkflow } from "./flow-step-test.ts";
import { flowWorkflow } from "./flow-workflow.ts";
import { prepareFlow } from "./prepare-flow.ts";
import { runFlow } from "./run-flow.ts";

/** What the catalog needs from the engine (the `Cairn` instance). */
export interface FlowHost {
  /** The flow documents, and the run rows that pin a flow's version. */
  store: { flows: FlowStore } & Pick<RunStore, "getRun">;
  now(): number;
  /** Registers a workflow so this process can start and run it. */
  register(workflow: Workflow<unknown, unknown>): void;
  /** The registered workflow of that name, if any. */
  registered(name: string): Workflow<unknown, unknown> | undefined;
  /** Records the triggers (events, crons) of every registered workflow. */
  syncTriggers(): Promise<void>;
  actions: ReadonlyMap<string, FlowAction>;
  options: FlowOptions;
  onError(error: Error, context: string): void;
}

export interface DeployResult {
  name: string;
  version: number;
  hash: string;
  /** False when the document equals the latest version (nothing deployed). */
  created: boolean;
}

/**
 * The flows this process knows: loaded from the store at open, reloaded when the store's
 * stamp changes (workers check before claiming), each registered as a workflow.
 */
export class FlowCatalog {
  readonly #host: FlowHost;
  readonly #latest = new Map<string, CompiledFlow>();
  readonly #compiled = new Map<string, CompiledFlow>();
  readonly #services: FlowServices;
  #stamp: string | undefined;
  #checkedAt = 0;
  #refreshing: Promise<void> | undefined;

  constructor(host: FlowHost) {
    this.#host = host;
    this.#services = {
      options: host.options,
      action: (name) => host.actions.get(name),
      actionNames: () => [...host.actions.keys()],
      workflow: (name) => host.registered(name) ?? remoteWorkflow(name),
    };
    host.register(flowStepWorkflow((name, version) => this.version(name, version), this.#services));
  }

  /** A deployed version, compiled (once per hash). @throws CairnError `NOT_FOUND`. */
  async version(name: string, version: number): Promise<CompiledFlow> {
    const cached = [...this.#compiled.values()].find(
      (flow) => flow.name === name && flow.version === version,
    );
    if (cached) return cached;
    const record = await this.#host.store.flows.get(name, version);
    if (!record) throw new CairnError("NOT_FOUND", `Flow "${name}" has no version ${version}.`);
    return this.#compile(record);
  }

  /** Names of the deployed flows this process knows. */
  names(): string[] {
    return [...this.#latest.keys()].sort();
  }

  has(name: string): boolean {
    return this.#latest.has(name);
  }

  /** Reloads when another process deployed since the last look (at most every `refreshMs`). */
  async refreshIfDue(): Promise<void> {
    if (this.#host.now() - this.#checkedAt < (this.#host.options.refreshMs ?? 1_000)) return;
    await this.refresh();
  }

  /** Loads the latest version of every flow and registers the new ones. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    this.#checkedAt = this.#host.now();
    const stamp = await this.#host.store.flows.stamp();
    if (stamp === this.#stamp) return;
    let changed = false;
    for (const record of await this.#host.store.flows.latest()) {
      if (this.#latest.get(record.name)?.hash === record.hash) continue;
      try {
        this.#add(record);
        changed = true;
      } catch (error) {
        this.#host.onError(ensureError(error), `loading flow "${record.name}" v${record.version}`);
      }
    }
    this.#stamp = stamp;
    if (changed) await this.#host.syncTriggers();
  }

  #add(record: FlowVersionRecord): void {
    const flow = this.#compile(record);
    const known = this.#latest.has(record.name);
    if (!known) {
      const existing = this.#host.registered(record.name);
      if (existing) {
        throw new CairnError(
          "INVALID_ARGUMENT",
          `A code workflow named "${record.name}" is registered here; the flow of that name is not loaded.`,
        );
      }
    }
    this.#latest.set(record.name, flow);
    if (!known) {
      this.#host.register(
        flowWorkflow(
          record.name,
          () => this.#latest.get(record.name) as CompiledFlow,
          (ctx, input) => this.#run(record.name, ctx, input),
        ),
      );
    }
  }

  #compile(record: Pick<FlowVersionRecord, "version" | "hash" | "document">): CompiledFlow {
    const cached = this.#compiled.get(record.hash);
    if (cached && cached.version === record.version) return cached;
    const flow = compileFlow(JSON.parse(record.document), record.version, record.hash);
    this.#compiled.set(record.hash, flow);
    return flow;
  }

  /**
   * A flow run: its first journal entry pins the version that was latest when the run was
   * created, so a deploy while it runs (or waits) does not change it; replays read it back.
   */
  async #run(name: string, ctx: WorkflowContext, input: unknown): Promise<unknown> {
    const pinned = await ctx.step("$flow", async () => {
      const run = await this.#host.store.getRun(ctx.runId);
      const versions = await this.#host.store.flows.versions(name);
      const createdAt = run?.createdAt ?? Number.POSITIVE_INFINITY;
      const chosen = versions.find((v) => v.createdAt <= createdAt) ?? versions.at(-1);
      if (!chosen)
        throw new CairnError("WORKFLOW_NOT_FOUND", `No flow named "${name}" is deployed.`);
      return { version: chosen.version, hash: chosen.hash };
    });
    let flow = this.#compiled.get(pinned.hash);
    if (!flow || flow.version !== pinned.version) {
      const record = await this.#host.store.flows.get(name, pinned.version);
      if (!record) throw new CairnError("NOT_FOUND", `Flow "${name}" v${pinned.version} is gone.`);
      flow = this.#compile(record);
    }
    return runFlow(ctx, flow, input, this.#services);
  }

  /**
   * Validates and stores a flow document; a changed document becomes a new version, an
   * unchanged one is a no-op. `baseDir` resolves `script.file` paths (their text is stored
   * in the version, so any worker runs it).
   * @throws CairnError `FLOW_INVALID` listing every error.
   */
  async deploy(
    source: string,
    options: { baseDir?: string; files?: Record<string, string>; author?: string } = {},
  ): Promise<DeployResult> {
    const prepared = await prepareFlow(source, {
      baseDir: options.baseDir,
      files: options.files,
      interpreterAvailable: (lang: ScriptLanguage) =>
        interpreterFor(lang, this.#host.options.interpreters) !== null,
    });
    const { document, format, hash } = prepared;
    const registered = this.#host.registered(document.name);
    if (registered && !this.#latest.has(document.name)) {
      throw new CairnError(
        "FLOW_INVALID",
        `name: a code workflow named "${document.name}" is registered; pick another name.`,
      );
    }
    const { record, created } = await this.#host.store.flows.deploy(
      {
        name: document.name,
        hash,
        source,
        format,
        document: JSON.stringify(document),
        description: document.description ?? null,
        author: options.author ?? null,
      },
      this.#host.now(),
    );
    await this.refresh();
    return { name: record.name, version: record.version, hash: record.hash, created };
  }
}

/** A workflow this process has no code for: a child run of it waits for a worker that has. */
function remoteWorkflow(name: string): Workflow<unknown, unknown> {
  return {
    name,
    options: { name },
    timeoutMs: undefined,
    kind: "cairn.workflow",
    fn: () => {
      throw new CairnError(
        "WORKFLOW_NOT_FOUND",
        `Workflow "${name}" does not run in this process.`,
      );
    },
  };
}
