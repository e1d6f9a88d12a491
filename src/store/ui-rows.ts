import type { RunId } from "../core/types.ts";
import type { LogLevel, LogRecord, WorkerRecord } from "./ui-store.ts";

/** Rows of the web UI's tables (migration 0005) as records, for both stores. */

export function toLog(row: Record<string, unknown>): LogRecord {
  return {
    seq: Number(row.seq),
    runId: row.run_id as RunId,
    stepKey: (row.step_key as string | null) ?? null,
    attempt: row.attempt === null || row.attempt === undefined ? null : Number(row.attempt),
    level: row.level as LogLevel,
    message: row.message as string,
    fields: (row.fields as string | null) ?? null,
    at: Number(row.at),
    truncated: Boolean(row.truncated),
  };
}

export function toWorker(row: Record<string, unknown>): WorkerRecord {
  return {
    id: row.id as string,
    host: row.host as string,
    pid: Number(row.pid),
    queues: JSON.parse(row.queues as string) as string[],
    workflows: JSON.parse(row.workflows as string) as string[],
    concurrency: Number(row.concurrency),
    startedAt: Number(row.started_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
  };
}
