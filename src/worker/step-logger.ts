import type { Logger } from "../core/logger.ts";
import { storableText } from "../core/names.ts";
import type { RunId } from "../core/types.ts";
import type { LogLevel, NewLogEntry } from "../store/ui-store.ts";

export interface LogLimits {
  /** Lines kept per step attempt (and per workflow execution); past it one marker line ends them. */
  maxPerStep: number;
  /** Bytes of message and fields kept per step attempt. */
  maxBytes: number;
}

export const defaultLogLimits: LogLimits = { maxPerStep: 1000, maxBytes: 256 * 1024 };

/**
 * The lines of one step attempt (or of the workflow code of one execution, `stepKey`
 * null), counted against the limits; `write` hands each kept line to the batched writer.
 */
export class StepLogger implements Logger {
  readonly #runId: RunId;
  readonly #stepKey: string | null;
  readonly #attempt: number | null;
  readonly #limits: LogLimits;
  readonly #write: (entry: NewLogEntry) => void;
  readonly #now: () => number;
  readonly #enabled: () => boolean;
  #lines = 0;
  #bytes = 0;
  #truncated = false;

  constructor(options: {
    runId: RunId;
    stepKey: string | null;
    attempt: number | null;
    limits: LogLimits;
    write: (entry: NewLogEntry) => void;
    now: () => number;
    /** False while the workflow replays recorded positions: those lines were logged before. */
    enabled?: () => boolean;
  }) {
    this.#runId = options.runId;
    this.#stepKey = options.stepKey;
    this.#attempt = options.attempt;
    this.#limits = options.limits;
    this.#write = options.write;
    this.#now = options.now;
    this.#enabled = options.enabled ?? (() => true);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }

  log(level: LogLevel, message: unknown, fields?: Record<string, unknown>): void {
    if (this.#truncated || !this.#enabled()) return;
    const text = storableText(typeof message === "string" ? message : String(message));
    const json = fields === undefined ? null : stringifyFields(fields);
    const bytes = Buffer.byteLength(text) + (json === null ? 0 : Buffer.byteLength(json));
    if (this.#lines + 1 > this.#limits.maxPerStep || this.#bytes + bytes > this.#limits.maxBytes) {
      this.#truncated = true;
      this.#emit(
        "warn",
        `Log truncated: ${this.#lines} lines (${this.#bytes} bytes) kept; the limit is ${this.#limits.maxPerStep} lines or ${this.#limits.maxBytes} bytes (Cairn option logs).`,
        null,
        true,
      );
      return;
    }
    this.#lines++;
    this.#bytes += bytes;
    this.#emit(level, text, json, false);
  }

  #emit(level: LogLevel, message: string, fields: string | null, truncated: boolean): void {
    this.#write({
      runId: this.#runId,
      stepKey: this.#stepKey,
      attempt: this.#attempt,
      level,
      message,
      fields,
      at: this.#now(),
      truncated,
    });
  }
}

function stringifyFields(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_key, value) =>
      typeof value === "bigint"
        ? value.toString()
        : value instanceof Error
          ? { name: value.name, message: value.message, stack: value.stack }
          : value,
    );
  } catch (error) {
    return JSON.stringify({ unserializable: String(error) });
  }
}

/**
 * The logger of a run's workflow code (`stepKey` null) or of one step attempt, writing to
 * the engine's batched `logs` (nowhere when absent).
 */
export function runLogger(
  logs: { write(entry: NewLogEntry): void; limits: LogLimits } | undefined,
  runId: RunId,
  now: () => number,
  stepKey: string | null,
  attempt: number | null,
  enabled?: () => boolean,
): StepLogger {
  return new StepLogger({
    runId,
    stepKey,
    attempt,
    limits: logs?.limits ?? defaultLogLimits,
    write: logs ? (entry) => logs.write(entry) : () => {},
    now,
    ...(enabled ? { enabled } : {}),
  });
}
