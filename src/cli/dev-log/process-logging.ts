import pino from "pino";
import type { EngineEvent } from "../../core/engine-event.ts";
import type { Cairn } from "../../sdk/cairn.ts";
import type { LogLevel } from "../config-keys.ts";
import { UsageError } from "../errors.ts";
import { createLogger, logEvent } from "../logger.ts";
import { labelConsole } from "./console-labels.ts";
import {
  formatConsoleLine,
  formatEngineEvent,
  formatLogRecord,
  type Paint,
  paintFor,
} from "./pretty-format.ts";

/** `pretty`: one coloured line per event for people; `json`: pino lines for machines. */
export type LogFormat = "json" | "pretty";

/** `--log-format`, else pretty on a terminal and JSON when stderr is a file or a pipe. */
export function resolveLogFormat(flag: string | undefined): LogFormat {
  if (flag === undefined) return process.stderr.isTTY ? "pretty" : "json";
  if (flag === "json" || flag === "pretty") return flag;
  throw new UsageError(`--log-format must be json or pretty, got "${flag}".`);
}

/** The process logger: pino JSON lines on stderr, or the same records as human lines. */
export function createProcessLogger(level: LogLevel, format: LogFormat): pino.Logger {
  if (format === "json") return createLogger(level);
  const paint = paintFor(process.stderr);
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => void process.stderr.write(`${formatLogRecord(line, paint)}\n`) },
  );
}

/**
 * Logs what the engine does in this process and labels the `console` output of workflow
 * code with its run and step. Returns a function that stops both.
 */
export function logProcess(cairn: Cairn, logger: pino.Logger, format: LogFormat): () => void {
  const restoreConsole = labelConsole(({ method, scope, text }) => {
    if (format === "json") {
      const level = method === "error" ? "error" : method === "warn" ? "warn" : "info";
      logger[level]({ source: "console", ...scope }, text);
    } else {
      process.stderr.write(
        `${formatConsoleLine(Date.now(), method, scope, text, paintFor(process.stderr))}\n`,
      );
    }
  });
  const unsubscribe =
    format === "json"
      ? cairn.subscribe((event) => logEvent(logger, event))
      : cairn.subscribe(prettyListener(cairn, logger, paintFor(process.stderr)));
  return () => {
    unsubscribe();
    restoreConsole();
  };
}

function prettyListener(
  cairn: Cairn,
  logger: pino.Logger,
  paint: Paint,
): (event: EngineEvent) => void {
  const startedAt = new Map<string, number>();
  const quiet = !logger.isLevelEnabled("info");
  const write = (line: string | null) => {
    if (line !== null) process.stderr.write(`${line}\n`);
  };
  return (event) => {
    if (quiet && !isTrouble(event)) return;
    if (event.type !== "run") return write(formatEngineEvent(event, paint));
    const runStartedAt = startedAt.get(event.runId);
    if (event.status === "running" && runStartedAt === undefined)
      startedAt.set(event.runId, event.at);
    // A suspended run's next stretch is measured from its resume: its wait is not work.
    if (event.status !== "running") startedAt.delete(event.runId);
    const extra = runStartedAt === undefined ? {} : { runStartedAt };
    if (event.status !== "completed") return write(formatEngineEvent(event, paint, extra));
    // The event carries no output; one read shows it in brief (dev only, one row).
    cairn.getRun(event.runId).then(
      (run) => write(formatEngineEvent(event, paint, { ...extra, output: run.output })),
      () => write(formatEngineEvent(event, paint, extra)),
    );
  };
}

function isTrouble(event: EngineEvent): boolean {
  if (event.type === "lease-expired" || event.type === "store-lock") return true;
  if (event.type === "run") return event.status === "failed";
  return event.type === "step" && (event.status === "failed" || event.status === "retrying");
}
