import type { Command } from "commander";
import { type Duration, toMs } from "../../core/duration.ts";
import { addConfigOptions } from "../config-keys.ts";
import { apiOrDatabase } from "../engine.ts";
import { UsageError } from "../errors.ts";
import { print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

/**
 * `cairn runs purge --older-than 30d`: deletes finished runs older than that, with their
 * journals, through the API (admins) when one answers, else on the database.
 */
export function registerRunsPurgeCommand(runs: Command): void {
  const purge = runs
    .command("purge")
    .description(
      "delete finished runs (completed, failed, cancelled) older than a duration, with their journals",
    )
    .requiredOption("--older-than <duration>", "e.g. 30d, 12h, 2w: runs that finished before then")
    .option("--json", "print JSON");
  addConfigOptions(purge, ["url", "token", "db"]).action(async (opts) => {
    const olderThan = durationText(opts.olderThan);
    const resolved = await resolveConfig(purge);
    const result = await apiOrDatabase(
      resolved,
      async (remote) => {
        const { purged, before } = await remote.purgeRuns(olderThan);
        return { purged, before: before.toISOString() };
      },
      async (cairn) => {
        const before = new Date(cairn.clock.now() - toMs(olderThan)).toISOString();
        return { purged: await cairn.purgeRuns(olderThan), before };
      },
    );
    if (opts.json) return printJson(result);
    print(
      `Purged ${result.purged} finished run${result.purged === 1 ? "" : "s"} (finished before ${result.before}).`,
    );
  });
}

function durationText(text: string): Duration {
  const value = (/^\s*\d+\s*$/.test(text) ? Number(text) : text.trim()) as Duration;
  try {
    toMs(value, "--older-than");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return value;
}
