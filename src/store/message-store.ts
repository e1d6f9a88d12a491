import type { RunId } from "../core/types.ts";
import type { NewRun } from "./run-records.ts";

export interface EventRecord {
  id: string;
  name: string;
  data: string | null;
  createdAt: number;
}

/**
 * What comes in from outside a run: events (which wake waits and start triggered runs),
 * signals to one run, and the webhook signatures already seen. Part of {@link Store}.
 */
export interface MessageStore {
  /**
   * Stores an event once per id, resolves the waits it matches and creates `starts` (the
   * runs of workflows it triggers) in the same transaction; a duplicate id does nothing.
   */
  sendEvent(
    event: EventRecord,
    starts?: readonly NewRun[],
  ): Promise<{ accepted: boolean; duplicate: boolean; woke: RunId[]; started: RunId[] }>;
  listEvents(filter: {
    name?: string;
    before?: { createdAt: number; id: string };
    limit?: number;
  }): Promise<EventRecord[]>;
  /** Buffers a signal for a run, or hands it to a run waiting for it. */
  sendSignal(
    runId: RunId,
    name: string,
    payload: string | null,
    at: number,
  ): Promise<{ woke: boolean }>;
  /**
   * Records a webhook signature (`key`) as used until `expiresAt` (ms); false when it
   * already is: a replay. Forgets signatures expired by `now`. Every server on the database
   * shares these, so a restart or a second server refuses a replay too.
   */
  rememberWebhookSignature(key: string, expiresAt: number, now: number): Promise<boolean>;
}
