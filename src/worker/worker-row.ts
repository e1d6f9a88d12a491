import { hostname } from "node:os";
import type { UiStore } from "../store/ui-store.ts";

/** What a worker's row of the `workers` table (the web UI's Workers page) says. */
export interface WorkerRowFields {
  id: string;
  queues: readonly string[];
  workflows: readonly string[];
  concurrency: number;
  startedAt: number;
  /** The worker's lease: it writes its row every third of it; three missed and it is gone. */
  leaseMs: number;
}

/** Writes the worker's row once; the promise rejects with the store's error. */
export function beatWorkerRow(
  workers: UiStore["workers"],
  fields: WorkerRowFields,
  now: number,
): Promise<void> {
  const intervalMs = Math.max(10, Math.floor(fields.leaseMs / 3));
  return workers.beat({
    id: fields.id,
    host: hostname(),
    pid: process.pid,
    queues: [...fields.queues],
    workflows: [...fields.workflows],
    concurrency: fields.concurrency,
    startedAt: fields.startedAt,
    lastSeenAt: now,
    expiresAt: now + 3 * intervalMs,
  });
}
