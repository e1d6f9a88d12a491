import type Database from "better-sqlite3";
import { toFlowVersion, withoutText } from "../store/flow-rows.ts";
import type { FlowStore } from "../store/flow-store.ts";

/** The flows part of the SQLite store; `write` runs its argument in an immediate transaction. */
export function sqliteFlows(
  db: () => Database.Database,
  write: <T>(fn: () => T) => Promise<T>,
): FlowStore {
  let statements: ReturnType<typeof prepare> | undefined;
  const sql = () => {
    statements ??= prepare(db());
    return statements;
  };
  const latestOf = (name: string) => {
    const row = sql().latestOf.get(name) as Record<string, unknown> | undefined;
    return row ? toFlowVersion(row) : undefined;
  };
  return {
    async deploy(flow, at) {
      // One immediate transaction: the read of the latest version and the insert of the
      // next cannot interleave with another process's deploy.
      return write(() => {
        const latest = latestOf(flow.name);
        if (latest && latest.hash === flow.hash) return { record: latest, created: false };
        sql().insert.run({
          ...flow,
          version: (latest?.version ?? 0) + 1,
          created_at: at,
        });
        return { record: latestOf(flow.name) as never, created: true };
      });
    },
    async latest() {
      return (sql().latest.all() as Record<string, unknown>[]).map(toFlowVersion);
    },
    async get(name, version) {
      if (version === undefined) return latestOf(name);
      const row = sql().get.get(name, version) as Record<string, unknown> | undefined;
      return row ? toFlowVersion(row) : undefined;
    },
    async versions(name) {
      return (sql().versions.all(name) as Record<string, unknown>[]).map((r) =>
        withoutText(toFlowVersion(r)),
      );
    },
    async stamp() {
      const row = sql().stamp.get() as { n: number; at: number | null };
      return `${row.n}:${row.at ?? 0}`;
    },
  };
}

function prepare(db: Database.Database) {
  return {
    latestOf: db.prepare(
      "SELECT * FROM flow_versions WHERE name = ? ORDER BY version DESC LIMIT 1",
    ),
    get: db.prepare("SELECT * FROM flow_versions WHERE name = ? AND version = ?"),
    insert: db.prepare(`INSERT INTO flow_versions
      (name, version, hash, format, source, document, description, author, created_at)
      VALUES (@name, @version, @hash, @format, @source, @document, @description, @author, @created_at)`),
    latest: db.prepare(`SELECT f.* FROM flow_versions f
      WHERE f.version = (SELECT max(version) FROM flow_versions g WHERE g.name = f.name)
      ORDER BY f.name`),
    versions: db.prepare(
      "SELECT name, version, hash, format, description, author, created_at FROM flow_versions WHERE name = ? ORDER BY version DESC",
    ),
    stamp: db.prepare("SELECT count(*) AS n, max(created_at) AS at FROM flow_versions"),
  };
}
