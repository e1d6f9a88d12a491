import { CairnError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import type { ExecutionEnv, ExecutionOutcome } from "../worker/execution-env.ts";
import { captureConsole } from "../worker/log-capture.ts";
import { defaultMaxCrashes } from "../worker/poison-run.ts";
import { Worker, type WorkerOptions } from "../worker/worker.ts";
import { admitPending } from "./admit-pending.ts";
import { buildSuccessor } from "./continue-as-new.ts";
import type { Engine } from "./engine.ts";
import { fireSchedules } from "./fire-schedules.ts";
import { resolveLogOptions } from "./log-options.ts";
import { startChild } from "./start-child.ts";
import { uncaughtErrorPolicy } from "./uncaught-error-policy.ts";

/**
 * Starts the process's worker (once) wired to the engine: children start through the run
 * builder, and before each claim it admits pending runs and fires due schedules.
 */
export function startWorker(engine: Engine, options: WorkerOptions = {}): Worker {
  engine.assertOpen();
  if (engine.worker) return engine.worker;
  const concurrency = options.concurrency ?? 100;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new CairnError(
      "INVALID_ARGUMENT",
      `Worker concurrency must be a positive integer, got ${concurrency}.`,
    );
  }
  const { bus } = engine;
  const logOptions = resolveLogOptions(engine.options.logs);
  const onUncaught = uncaughtErrorPolicy({
    hook: engine.options.onUncaughtError,
    report: (error, context) =>
      engine.options.onError
        ? engine.options.onError(error, context)
        : console.error(`cairn: ${context}:`, error),
    runsInFlight: () => engine.worker?.runIds ?? [],
    drain: () => engine.close(),
  });
  const env: ExecutionEnv = {
    clock: engine.clock,
    emit: (event) => bus.emit(event),
    listening: () => bus.listening,
    store: engine.store,
    writer: engine.writer,
    payloadLimitBytes: engine.payloadLimitBytes,
    logs: {
      write: (entry) => engine.logWriter.write(entry),
      limits: logOptions.limits,
      captureConsole: logOptions.captureConsole,
    },
    startChild: (request) => startChild(engine, request),
    buildSuccessor: (run, workflow, input) => buildSuccessor(engine, run, workflow, input),
    reportUncaught: onUncaught,
  };
  if (logOptions.captureConsole) captureConsole();
  const worker = new Worker(
    engine.store,
    engine.clock,
    env,
    engine.registry,
    {
      concurrency,
      queues: options.queues ?? ["default"],
      leaseMs: engine.leaseMs,
      pollMs: engine.options.pollMs ?? 1_000,
      maxCrashes: engine.options.maxCrashes ?? defaultMaxCrashes,
    },
    {
      onStarted: (run) => bus.emitRun(run.id, run.workflow, "running"),
      onSettled: (run, outcome) => onSettled(engine, run, outcome),
      onError: (error, context) => engine.reportError(error, context),
      emit: (event) => bus.emit(event),
      onUnattributedError: (error, source) => onUncaught(error, { source, attributed: "none" }),
      beforeClaim: async (pass) => {
        await engine.flows.refreshIfDue();
        if (!pass.full) return admitPending(engine, pass.noticed);
        // Independent duties, run side by side: on PostgreSQL each is a round trip, and
        // a claim waited for both in turn before it could take the runs just admitted.
        const duties = await Promise.allSettled([admitPending(engine), fireSchedules(engine)]);
        for (const duty of duties) if (duty.status === "rejected") throw duty.reason;
      },
    },
    engine.versions,
  );
  engine.worker = worker;
  worker.start();
  return worker;
}

function onSettled(
  engine: Engine,
  run: { id: RunId; workflow: string },
  outcome: ExecutionOutcome,
): void {
  const { bus } = engine;
  switch (outcome.type) {
    case "completed":
    case "failed":
      if (outcome.type === "completed" && outcome.continuedTo) {
        bus.emitRun(outcome.continuedTo, run.workflow, "queued", undefined, "created");
        engine.notify();
      }
      // A continued run's result is its successor's: its notice carries no outcome.
      bus.finished(
        run.id,
        outcome.type === "failed"
          ? { status: "failed", error: outcome.stored }
          : outcome.continuedTo
            ? undefined
            : { status: "completed", output: outcome.output },
      );
      bus.emitRun(
        run.id,
        run.workflow,
        outcome.type,
        outcome.type === "failed" ? outcome.error : undefined,
      );
      return;
    case "suspended":
      bus.emitRun(run.id, run.workflow, outcome.status);
      return;
    case "released":
      bus.emitRun(run.id, run.workflow, "queued", undefined, "released");
      return;
    case "aborted":
      return; // cancelled (reported by cancel) or lost to another worker (it reports)
  }
}
