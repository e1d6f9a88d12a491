import pino from "pino";
import type { EngineEvent } from "../core/engine-event.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { LogLevel } from "./config-keys.ts";

/** JSON lines on stderr (stdout carries the command's own output). */
export function createLogger(level: LogLevel): pino.Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** Journal kinds that record a value or a patch marker, not work: logged at debug. */
const valueKinds = new Set(["now", "random", "uuid", "patch"]);

/**
 * Logs what the engine does in this process: one line per run status change and per step
 * end (completed, retrying, failed), with `runId`, `workflow`, `step` and `attempt`.
 * Step starts and claims are logged at debug. Returns a function that stops logging.
 */
export function logEngineEvents(cairn: Cairn, logger: pino.Logger): () => void {
  return cairn.subscribe((event) => logEvent(logger, event));
}

export function logEvent(logger: pino.Logger, event: EngineEvent): void {
  switch (event.type) {
    case "run": {
      const fields = { runId: event.runId, workflow: event.workflow, status: event.status };
      if (event.error) logger.warn({ ...fields, error: event.error }, `run ${event.status}`);
      else logger.info(fields, `run ${event.status}`);
      return;
    }
    case "step": {
      const fields = {
        runId: event.runId,
        workflow: event.workflow,
        step: event.key,
        kind: event.kind,
        attempt: event.attempt,
        status: event.status,
        ...(event.durationMs === undefined ? {} : { durationMs: event.durationMs }),
        ...(event.error ? { error: event.error } : {}),
      };
      const message = `step ${event.status}`;
      if (event.status === "started" || valueKinds.has(event.kind)) logger.debug(fields, message);
      else if (event.status === "failed" || event.status === "retrying")
        logger.warn(fields, message);
      else logger.info(fields, message);
      return;
    }
    case "claim":
      logger.debug(
        { count: event.count, takeovers: event.takeovers, latencyMs: event.latencyMs },
        "claimed runs",
      );
      return;
    case "store-lock": {
      const fields = {
        database: event.path,
        waitedMs: event.waitedMs,
        ...(event.holderPid === undefined
          ? {}
          : { holderPid: event.holderPid, holderName: event.holderName }),
      };
      const by = event.holderPid === undefined ? "another process" : `pid ${event.holderPid}`;
      if (event.state === "waiting")
        logger.warn(
          fields,
          `database write lock held by ${by}: writes have waited ${event.waitedMs} ms`,
        );
      else if (event.state === "gave-up")
        logger.error(
          fields,
          `database write lock still held by ${by}: writes failed after the busy timeout`,
        );
      else logger.info(fields, `database write lock acquired after ${event.waitedMs} ms`);
      return;
    }
    case "purge":
      if (event.runs > 0)
        logger.info({ runs: event.runs, before: event.before }, "retention deleted finished runs");
      return;
    case "lease-expired":
      logger.warn(
        { runIds: event.runIds },
        "leases unconfirmed for a whole lease: stopped these runs (another worker may own them)",
      );
      return;
  }
}
