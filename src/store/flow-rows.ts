import type { FlowVersionRecord } from "./flow-store.ts";

type Row = Record<string, unknown>;

/** A `flow_versions` row (either store) as a record; `bigint`/text numbers become numbers. */
export function toFlowVersion(row: Row): FlowVersionRecord {
  return {
    name: String(row.name),
    version: Number(row.version),
    hash: String(row.hash),
    source: String(row.source ?? ""),
    format: row.format === "json" ? "json" : "yaml",
    document: String(row.document ?? ""),
    description:
      row.description === null || row.description === undefined ? null : String(row.description),
    author: row.author === null || row.author === undefined ? null : String(row.author),
    createdAt: Number(row.created_at),
  };
}

export function withoutText(
  record: FlowVersionRecord,
): Omit<FlowVersionRecord, "source" | "document"> {
  const { source: _s, document: _d, ...rest } = record;
  return rest;
}
