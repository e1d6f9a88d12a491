import type { LogRecord } from "../store/ui-store.ts";

/** A log line as the API sends it (`GET /runs/{id}/logs`, `event: log` on the stream). */
export interface LogLine {
  seq: number;
  stepKey: string | null;
  attempt: number | null;
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
  at: string;
  truncated?: boolean;
}

export function toLogLine(entry: Omit<LogRecord, "runId">): LogLine {
  let fields: Record<string, unknown> | undefined;
  if (entry.fields !== null) {
    try {
      fields = JSON.parse(entry.fields) as Record<string, unknown>;
    } catch {
      fields = { unparsed: entry.fields };
    }
  }
  return {
    seq: entry.seq,
    stepKey: entry.stepKey,
    attempt: entry.attempt,
    level: entry.level,
    message: entry.message,
    ...(fields === undefined ? {} : { fields }),
    at: new Date(entry.at).toISOString(),
    ...(entry.truncated ? { truncated: true } : {}),
  };
}
