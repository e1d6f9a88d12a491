import type { EntryStatus, RunStatus } from "../core/types.ts";

/**
 * The server's JSON shapes beyond a run (`src/server/schemas-ui.ts`, `flow-schemas.ts` and
 * the event stream are their source of truth; a test checks these against them): bulk
 * actions, log lines, retention, deployed flows and stream updates. Times stay ISO strings.
 */

/** Runs to act on: every condition must hold. */
export interface RemoteRunSelection {
  workflow?: string;
  status?: RunStatus;
  /** Created at or after (ISO time or ms since the epoch). */
  from?: string;
  /** Created before (ISO time or ms since the epoch). */
  to?: string;
  /** `key:value`; several must all match. */
  tag?: string | string[];
  idPrefix?: string;
}

/** What {@link RemoteCairn.bulk} acts on: a selection or a list of ids, not both. */
export type RemoteBulkRequest = {
  action: "cancel" | "retry";
  /** Only count: nothing changes. */
  dryRun?: boolean;
} & ({ filter: RemoteRunSelection; ids?: never } | { ids: string[]; filter?: never });

export interface BulkResult {
  matched: number;
  affected: number;
  /** The runs acted on (or, on a dry run, that would be), at most 1000 listed. */
  ids: string[];
}

/** A log line of a run (ctx.log, a step's log, captured console output). */
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

/** A page of log lines; pass `nextSeq` back as `afterSeq` for the next lines. */
export interface LogPage {
  logs: LogLine[];
  nextSeq: number;
}

/** What {@link RemoteCairn.purgeRuns} deleted. */
export interface PurgeResult {
  /** Runs deleted, with their journals. */
  purged: number;
  /** The cut-off the server used: runs that finished before it went. */
  before: Date;
}

/** A deployed flow version, without its document. */
export interface FlowSummary {
  name: string;
  version: number;
  hash: string;
  format: "yaml" | "json";
  description: string | null;
  author: string | null;
  createdAt: string;
}

/** A deployed flow version with its text and parsed document. */
export interface FlowVersion extends FlowSummary {
  document: Record<string, unknown>;
  source: string;
}

/** The outcome of a deploy: a changed document is a new version (`created`). */
export interface FlowDeployed {
  name: string;
  version: number;
  hash: string;
  created: boolean;
}

/** One update of the event stream (`GET /api/v1/stream`). */
export type RemoteUpdate =
  | {
      type: "run";
      runId: string;
      workflow: string;
      status: RunStatus;
      at: string;
      error?: { name: string; message: string };
    }
  | {
      type: "step";
      runId: string;
      workflow: string;
      key: string;
      kind: string;
      /** `started` when an attempt begins; the entry's status when it ends. */
      status: "started" | EntryStatus;
      attempt: number;
      at: string;
      durationMs?: number;
      error?: { name: string; message: string };
    }
  | ({ type: "log"; runId: string } & LogLine);
