import type { Sql } from "postgres";
import { toFlowVersion, withoutText } from "../store/flow-rows.ts";
import type { FlowStore } from "../store/flow-store.ts";

/** The flows part of the PostgreSQL store. */
export function postgresFlows(sql: Sql): FlowStore {
  const latestOf = async (name: string) => {
    const [row] = await sql`SELECT * FROM flow_versions WHERE name = ${name}
      ORDER BY version DESC LIMIT 1`;
    return row ? toFlowVersion(row) : undefined;
  };
  return {
    async deploy(flow, at) {
      // The advisory lock on the name serializes concurrent deploys of one flow, so the
      // next version number is read and taken without a race.
      return sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext('cairn_flow:' || ${flow.name}))`;
        const [row] = await tx`SELECT * FROM flow_versions WHERE name = ${flow.name}
          ORDER BY version DESC LIMIT 1`;
        const latest = row ? toFlowVersion(row) : undefined;
        if (latest && latest.hash === flow.hash) return { record: latest, created: false };
        const [inserted] = await tx`INSERT INTO flow_versions
            (name, version, hash, format, source, document, description, author, created_at)
          VALUES (${flow.name}, ${(latest?.version ?? 0) + 1}, ${flow.hash}, ${flow.format},
            ${flow.source}, ${flow.document}, ${flow.description}, ${flow.author}, ${at})
          RETURNING *`;
        return { record: toFlowVersion(inserted as Record<string, unknown>), created: true };
      }) as Promise<{ record: ReturnType<typeof toFlowVersion>; created: boolean }>;
    },
    async latest() {
      const rows = await sql`SELECT DISTINCT ON (name) * FROM flow_versions
        ORDER BY name, version DESC`;
      return rows.map(toFlowVersion);
    },
    async get(name, version) {
      if (version === undefined) return latestOf(name);
      const [row] = await sql`SELECT * FROM flow_versions
        WHERE name = ${name} AND version = ${version}`;
      return row ? toFlowVersion(row) : undefined;
    },
    async versions(name) {
      const rows = await sql`SELECT name, version, hash, format, description, author, created_at
        FROM flow_versions WHERE name = ${name} ORDER BY version DESC`;
      return rows.map((r) => withoutText(toFlowVersion(r)));
    },
    async stamp() {
      const [row] = await sql`SELECT count(*)::int AS n, max(created_at) AS at FROM flow_versions`;
      return `${row?.n ?? 0}:${row?.at ?? 0}`;
    },
  };
}
