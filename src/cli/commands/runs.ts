import type { Command } from "commander";
import { CairnError } from "../../core/errors.ts";
import type { RunInfo } from "../../core/run-info.ts";
import { isTerminal, type RunId, type RunStatus } from "../../core/types.ts";
import { parseRunWheres } from "../../engine/parse-run-where.ts";
import { defaultScanLimit } from "../../store/run-where.ts";
import type { RunFilter } from "../../store/store.ts";
import { addConfigOptions } from "../config-keys.ts";
import { apiOrDatabase, withStore } from "../engine.ts";
import { parsePositiveInt, UsageError } from "../errors.ts";
import {
  formatDuration,
  formatTable,
  formatTime,
  note,
  oneLine,
  print,
  printJson,
  toJsonText,
} from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";
import { registerReplay } from "./replay.ts";
import { registerRunsPurgeCommand } from "./runs-purge.ts";
import { collectFilter, registerRunsUiCommands, runBulk } from "./runs-ui.ts";

const statuses: readonly RunStatus[] = [
  "queued",
  "running",
  "waiting",
  "completed",
  "failed",
  "cancelled",
];

/**
 * `cairn runs list|show|cancel|retry|replay|purge` and the top-level `cairn replay`. Reads go to
 * the database; cancel and retry go through the API when one answers (see `apiOrDatabase`).
 */
export function registerRunsCommands(program: Command): void {
  const runs = program.command("runs").description("inspect and manage runs");

  const list = runs
    .command("list")
    .description("list runs, newest first")
    .option("--workflow <name>", "only runs of this workflow")
    .option("--status <status>", `only runs in this status: ${statuses.join(", ")}`)
    .option("--tag <key:value>", "only runs carrying this tag; repeatable", collect, [])
    .option(
      "--where <path:value>",
      "only runs whose input or output holds this value, e.g. input.customer.id:c-17; repeatable (examines at most the 10,000 newest runs the other filters pick)",
      collect,
      [],
    )
    .option("--limit <n>", "at most this many runs (default: 20)")
    .option("--json", "print JSON");
  addConfigOptions(list, ["db"]).action(async (opts) => {
    if (opts.status !== undefined && !statuses.includes(opts.status)) {
      throw new UsageError(`--status must be one of ${statuses.join(", ")}, got "${opts.status}".`);
    }
    const limit = opts.limit === undefined ? 20 : parsePositiveInt("--limit", opts.limit);
    const filter: RunFilter = {
      limit,
      ...(opts.workflow ? { workflow: opts.workflow } : {}),
      ...(opts.status ? { status: opts.status } : {}),
      ...(opts.tag.length > 0 ? { tags: parseTagOptions(opts.tag) } : {}),
    };
    const where = usageErrors(() => parseRunWheres(opts.where));
    const { values } = await resolveConfig(list);
    const found = await withStore(values, async (store) => {
      if (where.length === 0) return store.listRuns(filter);
      const search = await store.searchRuns({ ...filter, where });
      if (search.scannedTo && search.runs.length < limit) {
        note(
          `Searched the ${defaultScanLimit.toLocaleString("en")} newest runs the other filters pick; older runs were not examined. Narrow with --workflow, --status or --tag.`,
        );
      }
      return search.runs;
    });
    const rows = found.map((r) => ({
      id: r.id,
      workflow: r.workflow,
      status: r.status,
      parentId: r.parentId,
      createdAt: new Date(r.createdAt),
      startedAt: r.startedAt === null ? null : new Date(r.startedAt),
      finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt),
    }));
    if (opts.json) return printJson(rows);
    if (rows.length === 0) return print("No runs.");
    print(
      formatTable(
        ["ID", "WORKFLOW", "STATUS", "CREATED", "DURATION"],
        rows.map((r) => [
          r.id,
          r.workflow,
          r.status,
          formatTime(r.createdAt),
          r.finishedAt ? formatDuration(r.finishedAt.getTime() - r.createdAt.getTime()) : "-",
        ]),
      ),
    );
  });

  const show = runs
    .command("show")
    .description("show a run: status, steps with timings and attempts, output or error")
    .argument("<id>", "run id")
    .option("--json", "print JSON");
  addConfigOptions(show, ["db"]).action(async (id: string, opts) => {
    const { values } = await resolveConfig(show);
    const { run, tags, children } = await withStore(values, async (store) => {
      const { readRunInfo } = await import("../../engine/to-run-info.ts");
      const run = await readRunInfo(store, id);
      return {
        run,
        tags: (await store.tags.get([run.id])).get(run.id) ?? {},
        children: await store.listRuns({ parentId: id as RunId, limit: 1000 }),
      };
    });
    const childIds = children.map((c) => ({ id: c.id, workflow: c.workflow, status: c.status }));
    if (opts.json) return printJson({ ...run, tags, children: childIds });
    printRun(run, tags, childIds);
  });

  const cancel = runs
    .command("cancel")
    .description("cancel a run and its child runs; with --filter, every matching run")
    .argument("[id]", "run id")
    .option(
      "--filter <key=value>",
      "select runs instead of an id (workflow, status, from, to, tag, idPrefix); repeatable",
      collectFilter,
    )
    .option("--yes", "with --filter: act without asking for confirmation")
    .option("--json", "print JSON");
  addConfigOptions(cancel, ["url", "token", "db"]).action(async (id: string | undefined, opts) => {
    if (opts.filter) {
      if (id !== undefined) throw new UsageError("Give a run id or --filter, not both.");
      return runBulk(cancel, "cancel", opts);
    }
    if (id === undefined)
      throw new UsageError("Give a run id, or --filter key=value to select runs.");
    const resolved = await resolveConfig(cancel);
    const status = await apiOrDatabase(
      resolved,
      async (remote) => {
        await remote.cancel(id);
        return (await remote.getRun(id)).status;
      },
      async (cairn) => {
        const before = await cairn.getRun(id);
        if (!isTerminal(before.status)) await cairn.cancel(id);
        return (await cairn.getRun(id)).status;
      },
    );
    if (opts.json) return printJson({ id, status });
    print(
      status === "cancelled" ? `Run ${id} is cancelled.` : `Run ${id} already ended: ${status}.`,
    );
  });

  const retry = runs
    .command("retry")
    .description(
      "retry a failed or cancelled run from its last checkpoint; with --filter, every matching run",
    )
    .argument("[id]", "run id")
    .option(
      "--filter <key=value>",
      "select runs instead of an id (workflow, status, from, to, tag, idPrefix); repeatable",
      collectFilter,
    )
    .option("--yes", "with --filter: act without asking for confirmation")
    .option("--json", "print JSON");
  addConfigOptions(retry, ["url", "token", "db"]).action(async (id: string | undefined, opts) => {
    if (opts.filter) {
      if (id !== undefined) throw new UsageError("Give a run id or --filter, not both.");
      return runBulk(retry, "retry", opts);
    }
    if (id === undefined)
      throw new UsageError("Give a run id, or --filter key=value to select runs.");
    const resolved = await resolveConfig(retry);
    const status = await apiOrDatabase(
      resolved,
      async (remote) => {
        await remote.retry(id);
        return (await remote.getRun(id)).status;
      },
      async (cairn) => {
        await cairn.retry(id);
        return (await cairn.getRun(id)).status;
      },
    );
    if (opts.json) return printJson({ id, status });
    print(`Run ${id} is ${status}: completed steps keep their outcomes, failed ones run again.`);
  });

  registerRunsUiCommands(runs);
  registerRunsPurgeCommand(runs);

  const replayHelp = "check a recorded run against workflow code (exit 1 if it diverged)";
  registerReplay(runs.command("replay").description(replayHelp));
  registerReplay(program.command("replay").description(`${replayHelp}; same as runs replay`));
}

function printRun(
  run: RunInfo,
  tags: Record<string, string>,
  children: { id: string; workflow: string; status: RunStatus }[],
): void {
  const took = run.finishedAt
    ? ` in ${formatDuration(run.finishedAt.getTime() - run.createdAt.getTime())}`
    : "";
  print(`run       ${run.id}`);
  const version = run.workflowVersion > 1 ? ` (version ${run.workflowVersion})` : "";
  print(`workflow  ${run.workflow}${version}`);
  print(`status    ${run.status}${took}`);
  print(`created   ${formatTime(run.createdAt)}`);
  // As `--tag key:value` selects them, in key order.
  const tagText = Object.entries(tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}:${value}`)
    .join(", ");
  if (tagText) print(`tags      ${tagText}`);
  if (run.parentId) print(`parent    ${run.parentId}`);
  if (run.continuedFrom) print(`previous  ${run.continuedFrom} (this run continues it)`);
  if (run.continuedTo) print(`next      ${run.continuedTo} (this run continued as new)`);
  print(`input     ${oneLine(run.input)}`);
  if (run.steps.length > 0) {
    print("steps");
    const rows = run.steps.map((s) => [
      String(s.position),
      s.key,
      s.kind,
      s.status,
      String(s.attempt),
      formatTime(s.startedAt).slice(11),
      formatDuration(s.durationMs),
      s.error
        ? oneLine(`${s.error.name}: ${s.error.message}`, 80)
        : s.childRunId
          ? `child ${s.childRunId}`
          : "",
    ]);
    const table = formatTable(
      ["#", "STEP", "KIND", "STATUS", "ATTEMPTS", "STARTED", "DURATION", ""],
      rows,
    );
    for (const line of table.split("\n")) print(`  ${line}`);
  }
  for (const child of children) print(`child     ${child.id} (${child.workflow}, ${child.status})`);
  if (run.continuedTo) print("output    none: the chain's result is its last run's");
  else if (run.status === "completed") print(`output    ${toJsonText(run.output)}`);
  if (run.error) print(`error     ${run.error.name}: ${run.error.message}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--tag key:value` options as a filter's tags. */
function parseTagOptions(tags: readonly string[]): { key: string; value: string }[] {
  return tags.map((tag) => {
    const at = tag.indexOf(":");
    if (at < 1) throw new UsageError(`--tag must be key:value, got "${tag}".`);
    return { key: tag.slice(0, at), value: tag.slice(at + 1) };
  });
}

/** A bad argument the engine's parser refuses is a usage error (exit 2), with its message. */
function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (CairnError.is(error) && error.code === "INVALID_ARGUMENT") {
      throw new UsageError(`--where ${error.message}`);
    }
    throw error;
  }
}
