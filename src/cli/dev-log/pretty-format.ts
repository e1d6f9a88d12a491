import type { EngineEvent } from "../../core/engine-event.ts";
import { formatDuration, oneLine } from "../output.ts";
import type { ConsoleMethod, ConsoleScope } from "./console-labels.ts";

/** ANSI colours, or none (NO_COLOR, not a terminal). */
export interface Paint {
  dim(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) =>
  `\x1b[${open}m${text}\x1b[${close}m`;
export const colours: Paint = {
  dim: ansi(2, 22),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  red: ansi(31, 39),
  cyan: ansi(36, 39),
  bold: ansi(1, 22),
};
const same = (text: string) => text;
export const plain: Paint = {
  dim: same,
  green: same,
  yellow: same,
  red: same,
  cyan: same,
  bold: same,
};

/** Colours when `stream` is a terminal and NO_COLOR is unset (https://no-color.org). */
export function paintFor(stream: { isTTY?: boolean }): Paint {
  return stream.isTTY && !process.env.NO_COLOR ? colours : plain;
}

/** `13:04:05` in local time. */
export function clockTime(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Journal kinds that record a value or a patch marker, not work: not worth a line. */
const valueKinds = new Set(["now", "random", "uuid", "patch"]);

/**
 * One human line for an engine event, or null for events not worth one (step starts,
 * claims, journaled values). `runStartedAt` is when the run was first seen running, for the
 * duration of its end; `output` is the finished run's output when known.
 */
export function formatEngineEvent(
  event: EngineEvent,
  paint: Paint,
  extra: { runStartedAt?: number; output?: unknown } = {},
): string | null {
  // Log lines are stored with their step; console output is printed (labelled) as it happens.
  if (event.type === "log") return null;
  const time = paint.dim(clockTime(event.at));
  switch (event.type) {
    case "run": {
      const who = `${paint.bold(event.workflow)} ${paint.dim(event.runId)}`;
      const took =
        extra.runStartedAt === undefined
          ? ""
          : ` in ${formatDuration(event.at - extra.runStartedAt)}`;
      switch (event.status) {
        case "running":
          return `${time} ${paint.cyan("▶")} ${who} running`;
        case "queued":
          return event.reason === "created" ? `${time} ${paint.dim("·")} ${who} queued` : null;
        case "waiting":
          return `${time} ${paint.dim("⏸")} ${who} waiting`;
        case "completed": {
          const output = "output" in extra ? ` → ${brief(extra.output)}` : "";
          return `${time} ${paint.green("✔")} ${who} completed${took}${output}`;
        }
        case "failed":
          return `${time} ${paint.red("✘")} ${who} failed${took}${errorText(event.error)}`;
        case "cancelled":
          return `${time} ${paint.yellow("■")} ${who} cancelled`;
      }
      return null;
    }
    case "step": {
      if (event.status === "started" || valueKinds.has(event.kind)) return null;
      const who = `${event.workflow} ${paint.dim(event.runId)} › ${paint.bold(event.key)}`;
      const took =
        event.durationMs === undefined ? "" : ` ${paint.dim(formatDuration(event.durationMs))}`;
      switch (event.status) {
        case "completed":
          return `${time} ${paint.green("✓")} ${who}${took}`;
        case "retrying":
          return `${time} ${paint.yellow("↻")} ${who} attempt ${event.attempt} failed${errorText(event.error)} — retrying`;
        case "failed":
          return `${time} ${paint.red("✗")} ${who} failed after attempt ${event.attempt}${errorText(event.error)}`;
        case "waiting":
          return `${time} ${paint.dim("…")} ${who} ${event.kind === "sleep" ? "sleeping" : `waiting (${event.kind})`}`;
      }
      return null;
    }
    case "claim":
      return null;
    case "store-lock": {
      const by = event.holderPid === undefined ? "another process" : `pid ${event.holderPid}`;
      if (event.state === "acquired")
        return `${time} ${paint.green("✓")} database write lock acquired after ${event.waitedMs} ms`;
      return `${time} ${paint.yellow("!")} database ${event.path} write-locked by ${by} for ${event.waitedMs} ms${event.state === "gave-up" ? ": writes failed" : ""}`;
    }
    case "lease-expired":
      return `${time} ${paint.yellow("!")} stopped ${event.runIds.length} run(s) whose lease the database did not confirm`;
    case "purge":
      if (event.runs === 0) return null;
      return `${time} ${paint.dim("·")} retention deleted ${event.runs} finished run(s)`;
  }
}

/** An output on one short line; a string keeps its quotes, so `"42"` and `42` differ. */
function brief(output: unknown): string {
  return oneLine(typeof output === "string" ? JSON.stringify(output) : output, 120);
}

function errorText(error: { name: string; message: string } | undefined): string {
  return error ? `: ${error.name}: ${oneLine(error.message, 160)}` : "";
}

/** A user's `console` call inside a run, labelled with the run and step. */
export function formatConsoleLine(
  at: number,
  method: ConsoleMethod,
  scope: ConsoleScope,
  text: string,
  paint: Paint,
): string {
  const where = `${scope.workflow} ${scope.runId}${scope.step ? ` › ${scope.step}` : ""}`;
  const mark =
    method === "error" ? paint.red("│") : method === "warn" ? paint.yellow("│") : paint.dim("│");
  const lines = text.split("\n");
  return lines
    .map((line) => `${paint.dim(clockTime(at))} ${paint.dim(where)} ${mark} ${line}`)
    .join("\n");
}

const levelNames: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/** A pino JSON record as one human line: time, level (if not info), message, other fields. */
export function formatLogRecord(json: string, paint: Paint): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const { level, time, msg, pid: _pid, err, ...fields } = record;
  const at =
    typeof time === "string" || typeof time === "number" ? new Date(time).getTime() : Date.now();
  const name = levelNames[level as number] ?? "info";
  const tag =
    name === "info"
      ? ""
      : `${(name === "warn" ? paint.yellow : name === "error" || name === "fatal" ? paint.red : paint.dim)(name)} `;
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${oneLine(v, 80)}`);
  const error =
    err && typeof err === "object"
      ? ` ${oneLine((err as { message?: unknown }).message ?? err, 200)}`
      : "";
  return `${paint.dim(clockTime(at))} ${tag}${String(msg ?? "")}${error}${rest.length ? ` ${paint.dim(rest.join(" "))}` : ""}`;
}
