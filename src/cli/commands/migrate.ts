import type { Command } from "commander";
import { redactUrl } from "../../core/redact.ts";
import { addConfigOptions } from "../config-keys.ts";
import { checkDatabasePath } from "../database-path.ts";
import { print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

/** `cairn migrate`: opening the store applies the migrations it lacks; this reports them. */
export function registerMigrateCommand(program: Command): void {
  const migrate = program
    .command("migrate")
    .description("apply the database migrations this database lacks")
    .option("--json", "print JSON");
  addConfigOptions(migrate, ["db"]).action(async (opts) => {
    const { values } = await resolveConfig(migrate);
    checkDatabasePath(values.db);
    const { openStore } = await import("../../engine/open-store.ts");
    const since = Date.now();
    const store = await openStore(values.db);
    let all: { id: number; name: string; appliedAt: number }[] = [];
    try {
      all = await store.migrations();
    } finally {
      await store.close();
    }
    // Opening applied what was missing; the rows stamped from now on are this run's.
    const applied = all.filter((m) => m.appliedAt >= since).map((m) => m.name);
    const names = all.map((m) => m.name);
    const db = redactUrl(values.db);
    if (opts.json) return printJson({ db, applied, migrations: names });
    if (applied.length > 0) print(`Applied ${applied.length} migration(s) to ${db}:`);
    else print(`${db} is up to date.`);
    for (const m of all) print(`  ${m.name}${applied.includes(m.name) ? "  (applied now)" : ""}`);
  });
}
