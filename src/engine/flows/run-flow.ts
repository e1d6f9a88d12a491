import { toMs } from "../../core/duration.ts";
import { NonRetryableError } from "../../core/errors.ts";
import type { ReceivedEvent } from "../../core/events.ts";
import type { FlowStep } from "../../core/flow/flow-schema.ts";
import { stepDependencies } from "../../core/flow/step-dependencies.ts";
import type { StepOptions, WorkflowContext } from "../../core/workflow.ts";
import { runScript } from "../../worker/script/run-script.ts";
import type { CompiledFlow } from "./compiled-flow.ts";
import type { FlowServices } from "./flow-services.ts";
import { httpStep } from "./http-step.ts";

/** What expressions see: `{ input, steps, item, index, error, run }`. */
type Data = Record<string, unknown> & { steps: Record<string, unknown> };

/**
 * Runs a flow's DAG on the workflow context. Each step is one journal call keyed by its
 * path (`per-order[3].enrich`). Determinism on replay comes from the context: outcomes are
 * delivered in their journaled order and a step starts only in the continuation of its
 * last dependency's delivery, so the calls (and their positions) come in the same order on
 * every replay. Steps with no path between them run in parallel.
 */
export async function runFlow(
  ctx: WorkflowContext,
  flow: CompiledFlow,
  input: unknown,
  services: FlowServices,
): Promise<unknown> {
  const data: Data = { input, steps: {}, run: { id: ctx.runId } };
  const runner = new FlowRunner(ctx, flow, services);
  try {
    const { outputs } = await runner.runSteps(flow.document.steps, "", data);
    if (flow.document.output === undefined) return outputs;
    return await flow.evaluate(flow.document.output, { ...data, steps: outputs });
  } catch (thrown) {
    const onFailure = flow.document.onFailure;
    if (!onFailure || !(thrown instanceof Error) || isEngineStop(thrown)) throw thrown;
    const error = { name: thrown.name, message: thrown.message };
    const withValue = await flow.evaluate(onFailure.with ?? {}, { ...data, error });
    await ctx.invoke("onFailure", services.workflow(onFailure.workflow), withValue);
    throw thrown;
  }
}

/** What a test run of one step sees in place of a run's earlier steps. */
export interface StepSample {
  input?: unknown;
  /** Outputs of the steps it reads, by id, as `steps.<id>` in its expressions. */
  steps?: Record<string, unknown>;
  /** For a step inside a `forEach`: the item and its position. */
  item?: unknown;
  index?: number;
}

/**
 * Runs one step of a flow alone, over sample data, exactly as a full run would run it (the
 * same step runner, journaled under the key a full run gives it). Resolves with its output.
 */
export async function runFlowStep(
  ctx: WorkflowContext,
  flow: CompiledFlow,
  located: { step: FlowStep; key: string },
  sample: StepSample,
  services: FlowServices,
): Promise<unknown> {
  const data: Data = {
    input: sample.input ?? {},
    steps: { ...sample.steps },
    run: { id: ctx.runId },
    ...("item" in sample ? { item: sample.item } : {}),
    ...(sample.index === undefined ? {} : { index: sample.index }),
  };
  return new FlowRunner(ctx, flow, services).runOne(located.step, located.key, data);
}

/** Errors that end the execution rather than the flow (lease lost, cancel, shutdown). */
function isEngineStop(error: Error): boolean {
  const code = (error as { code?: string }).code;
  return (
    code === "LEASE_LOST" ||
    code === "CLOSED" ||
    code === "RUN_CANCELLED" ||
    code === "NON_DETERMINISM"
  );
}

/** Each step list's dependency lists, computed once (expressions parse once per document). */
const dependencyCache = new WeakMap<readonly FlowStep[], Map<FlowStep, string[]>>();

function dependencyMap(steps: readonly FlowStep[]): (step: FlowStep) => string[] {
  let map = dependencyCache.get(steps);
  if (!map) {
    const siblings = new Set(steps.map((s) => s.id));
    map = new Map(steps.map((s) => [s, stepDependencies(s, siblings)]));
    dependencyCache.set(steps, map);
  }
  const found = map;
  return (step) => found.get(step) ?? [];
}

class FlowRunner {
  readonly #ctx: WorkflowContext;
  readonly #flow: CompiledFlow;
  readonly #services: FlowServices;

  constructor(ctx: WorkflowContext, flow: CompiledFlow, services: FlowServices) {
    this.#ctx = ctx;
    this.#flow = flow;
    this.#services = services;
  }

  /** One step on its own, with the data its expressions see. */
  runOne(step: FlowStep, key: string, data: Data): Promise<unknown> {
    return this.#runStep(step, key, data);
  }

  /** Runs sibling steps as a DAG; resolves with their outputs and the last listed step's. */
  async runSteps(
    steps: readonly FlowStep[],
    prefix: string,
    outer: Data,
  ): Promise<{ outputs: Record<string, unknown>; last: unknown }> {
    const depsOf = dependencyMap(steps);
    const outputs: Record<string, unknown> = {};
    const data: Data = { ...outer, steps: { ...outer.steps } };
    const done = new Map<string, Promise<unknown>>();
    // Created in document order; each starts once its dependencies have delivered.
    const pending = [...steps];
    while (pending.length > 0) {
      const index = pending.findIndex((s) => depsOf(s).every((d) => done.has(d)));
      const step = pending.splice(Math.max(index, 0), 1)[0] as FlowStep;
      const deps = depsOf(step).map((d) => done.get(d));
      const promise = Promise.all(deps).then(async () => {
        const output = await this.#runStep(step, `${prefix}${step.id}`, data);
        data.steps[step.id] = output;
        outputs[step.id] = output;
        return output;
      });
      promise.catch(() => {});
      done.set(step.id, promise);
    }
    await Promise.all(done.values());
    const lastId = steps.at(-1)?.id;
    return { outputs, last: lastId === undefined ? null : (outputs[lastId] ?? null) };
  }

  async #runStep(step: FlowStep, key: string, data: Data): Promise<unknown> {
    const ctx = this.#ctx;
    if (step.if !== undefined) {
      const condition =
        typeof step.if === "boolean" ? step.if : await this.#flow.evaluate(step.if, data);
      if (!condition) return this.#skip(key);
    }
    const withValue = ((await this.#flow.evaluate(step.with ?? {}, data)) ?? {}) as Record<
      string,
      unknown
    >;
    const options: StepOptions = step.retry ? { retry: step.retry as StepOptions["retry"] } : {};
    const timeout = step.timeout as StepOptions["timeout"];
    if (step.script) {
      const script = step.script;
      const secrets: Record<string, string> = {};
      for (const name of script.secrets ?? []) {
        const value = process.env[name];
        if (value !== undefined) secrets[name] = value;
      }
      const { onOutput, interpreters, maxLogBytes, killGraceMs, pythonRequirements } =
        this.#services.options;
      // The runner owns the timeout: it resolves only once the whole process group is dead.
      return ctx.step(key, options, async (info) => {
        const result = await runScript({
          lang: script.lang,
          source: script.source,
          file: script.file,
          input: withValue,
          env: { ...secrets, ...script.env },
          timeoutMs: timeout === undefined ? undefined : toMs(timeout, `timeout of step "${key}"`),
          signal: info.signal,
          interpreters,
          requirements: script.requirements,
          pythonRequirements,
          maxLogBytes,
          killGraceMs,
          name: key,
          onOutput: onOutput
            ? (stream, chunk) => onOutput(ctx.runId, key, stream, chunk)
            : undefined,
        });
        return result.output;
      });
    }
    if (step.action !== undefined) {
      const name = step.action;
      return ctx.step(
        key,
        { ...options, ...(timeout === undefined ? {} : { timeout }) },
        (info) => {
          const action = this.#services.action(name);
          if (!action) {
            throw new NonRetryableError(
              `No action "${name}" is registered in this worker (registered: ${this.#services.actionNames().join(", ") || "none"}).`,
            );
          }
          return action(withValue, info);
        },
      );
    }
    if (step.http) {
      const request = (await this.#flow.evaluate(step.http, data)) as Parameters<
        typeof httpStep
      >[0];
      return ctx.step(key, { ...options, ...(timeout === undefined ? {} : { timeout }) }, (info) =>
        httpStep(request, info.signal, this.#services.options.http),
      );
    }
    if (step.workflow !== undefined) {
      return ctx.invoke(key, this.#services.workflow(step.workflow), withValue);
    }
    if (step.sleep !== undefined) {
      const duration = await this.#flow.evaluate(step.sleep, data);
      await ctx.sleep(key, duration as StepOptions["timeout"] & {});
      return null;
    }
    if (step.waitForEvent) {
      const wait = step.waitForEvent;
      const match = (await this.#flow.evaluate(wait.match, data)) as Record<string, unknown> | null;
      const event = await ctx.waitForEvent(key, {
        event: wait.event,
        ...(match ? { match } : {}),
        ...(wait.timeout === undefined ? {} : { timeout: wait.timeout as never }),
      });
      return event ? event.data : null;
    }
    if (step.approval) return this.#approval(step, key, data);
    if (step.branch) return this.#branch(step, key, data);
    if (step.forEach) return this.#forEach(step, key, data);
    throw new NonRetryableError(`Step "${key}" has no kind.`);
  }

  /** A step not run: journaled with output null, so the run page and replays see it. */
  async #skip(key: string): Promise<null> {
    await this.#ctx.step(key, () => null);
    return null;
  }

  /**
   * Waits for the approval event (when one is named) or the step's signal
   * `approval:<key>` (`{ approved: boolean, by?, comment? }`, sent by the API), whichever
   * comes first; a rejection fails the step. Output: the event's data or the signal's payload.
   */
  async #approval(step: FlowStep, key: string, data: Data): Promise<unknown> {
    const approval = step.approval ?? {};
    const timeout = approval.timeout === undefined ? {} : { timeout: approval.timeout as never };
    const waits: Promise<{ from: "event" | "signal"; value: unknown }>[] = [];
    if (approval.event) {
      const match = (await this.#flow.evaluate(approval.match, data)) as Record<
        string,
        unknown
      > | null;
      waits.push(
        this.#ctx
          .waitForEvent(key, { event: approval.event, ...(match ? { match } : {}), ...timeout })
          .then((e: ReceivedEvent | null) => ({
            from: "event" as const,
            value: e ? e.data : null,
          })),
      );
    }
    waits.push(
      this.#ctx
        .waitForSignal(`approval:${key}`, timeout)
        .then((value) => ({ from: "signal" as const, value })),
    );
    const { from, value } = await Promise.race(waits);
    if (
      from === "signal" &&
      value &&
      typeof value === "object" &&
      (value as { approved?: unknown }).approved === false
    ) {
      const comment = (value as { comment?: unknown }).comment;
      throw new NonRetryableError(
        `Step "${key}" was rejected${typeof comment === "string" && comment ? `: ${comment}` : ""}.`,
      );
    }
    return value ?? null;
  }

  async #branch(step: FlowStep, key: string, data: Data): Promise<unknown> {
    const branches = step.branch ?? [];
    let taken = -1;
    for (let k = 0; k < branches.length && taken < 0; k++) {
      const branch = branches[k];
      if (!branch) continue;
      const condition = branch.else
        ? true
        : typeof branch.if === "boolean"
          ? branch.if
          : await this.#flow.evaluate(branch.if, data);
      if (condition) taken = k;
    }
    const prefix = key.slice(0, key.length - step.id.length);
    let result: unknown = null;
    for (let k = 0; k < branches.length; k++) {
      const branch = branches[k];
      if (!branch) continue;
      if (k === taken) {
        const { outputs, last } = await this.runSteps(branch.steps, prefix, data);
        Object.assign(data.steps, outputs);
        result = last;
      } else {
        for (const s of branch.steps) await this.#skip(`${prefix}${s.id}`);
      }
    }
    return result;
  }

  async #forEach(step: FlowStep, key: string, data: Data): Promise<unknown[]> {
    const each = step.forEach as NonNullable<FlowStep["forEach"]>;
    const items = await this.#flow.evaluate(each.items, data);
    if (!Array.isArray(items)) {
      throw new NonRetryableError(
        `Step "${key}": forEach.items must be a list, got ${items === null ? "null" : typeof items}.`,
      );
    }
    const results: unknown[] = new Array(items.length).fill(null);
    let next = 0;
    // `parallelism` lanes; each takes the next item when its iteration ends, so the order of
    // starts follows the (journaled) order of completions.
    const lane = async () => {
      while (next < items.length) {
        const index = next++;
        const { last } = await this.runSteps(each.steps, `${key}[${index}].`, {
          ...data,
          item: items[index],
          index,
        });
        results[index] = last;
      }
    };
    const lanes = Math.min(each.parallelism ?? 1, Math.max(items.length, 1));
    await Promise.all(Array.from({ length: lanes }, lane));
    return results;
  }
}
