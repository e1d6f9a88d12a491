import type { Command } from "commander";
import type { ReplayReport } from "../../engine/replay.ts";
import type { ReplayAllReport } from "../../engine/replay-all.ts";
import type { Cairn } from "../../sdk/cairn.ts";
import { addConfigOptions } from "../config-keys.ts";
import { withEngine } from "../engine.ts";
import { CommandFailedError, parsePositiveInt, UsageError } from "../errors.ts";
import { print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

/**
 * `cairn replay <run-id> <entry>` checks one recorded run against new code;
 * `cairn replay --all <entry>` is the deploy gate: every unfinished run (and the newest
 * `--finished N` finished ones of each workflow), one line per diverging run, exit 1 if any.
 */
export function registerReplay(command: Command): void {
  command
    .argument("[run-id]", "the recorded run (omit with --all)")
    .argument("[entry]", "file or folder with the workflows' (new) code")
    .option("--all", "replay every unfinished run against <entry> (the deploy gate)")
    .option("--workflow <name>", "with --all: only runs of this workflow")
    .option("--finished <n>", "with --all: also the newest N finished runs of each workflow")
    .option("--json", "print the replay report as JSON");
  addConfigOptions(command, ["db"]).action(
    async (first: string | undefined, second: string | undefined, opts) => {
      const { values } = await resolveConfig(command);
      if (opts.all) {
        if (first === undefined || second !== undefined) {
          throw new UsageError(
            "cairn replay --all takes one argument: the entry (file or folder).",
          );
        }
        const finished =
          opts.finished === undefined ? 0 : parsePositiveInt("--finished", opts.finished);
        return replayEveryRun(values, first, {
          workflow: opts.workflow,
          finished,
          json: opts.json,
        });
      }
      if (opts.workflow !== undefined || opts.finished !== undefined) {
        throw new UsageError("--workflow and --finished go with --all.");
      }
      if (first === undefined || second === undefined) {
        throw new UsageError(
          "cairn replay takes a run id and an entry (or --all and an entry): cairn replay <run-id> <entry>.",
        );
      }
      return replayOneRun(values, first, second, opts.json === true);
    },
  );
}

async function replayOneRun(
  values: Parameters<typeof withEngine>[0],
  runId: string,
  entry: string,
  json: boolean,
): Promise<void> {
  const report: ReplayReport = await withEngine(
    values,
    async (cairn: Cairn) => {
      const run = await cairn.getRun(runId); // throws RUN_NOT_FOUND
      const version = (await cairn.store.getRun(run.id))?.workflowVersion;
      const { loadWorkflow } = await import("../load-workflows.ts");
      return cairn.replay(runId, await loadWorkflow(entry, run.workflow, version));
    },
    { readOnly: true },
  );
  if (json) printJson(report);
  else if (report.divergence) {
    const d = report.divergence;
    print(`Run ${runId} (${report.workflow}): DIVERGED at journal position ${d.position}`);
    print(`  recorded: ${d.expected}`);
    print(`  code now: ${d.found}`);
  } else {
    const end = report.finished
      ? `the code ${report.finished} on recorded outcomes alone`
      : report.next
        ? `the run would continue with ${report.next.kind} "${report.next.key}" at position ${report.next.position}`
        : "";
    print(
      `Run ${runId} (${report.workflow}): consistent, ${report.replayedPositions} journal position${report.replayedPositions === 1 ? "" : "s"} replayed${end ? `; ${end}` : ""}.`,
    );
  }
  if (report.result === "diverged") {
    if (json) process.exitCode = 1;
    else throw new CommandFailedError(report.divergence?.message ?? "The run diverged.");
  }
}

async function replayEveryRun(
  values: Parameters<typeof withEngine>[0],
  entry: string,
  options: { workflow?: string; finished: number; json?: boolean },
): Promise<void> {
  const { loadWorkflows } = await import("../load-workflows.ts");
  const { workflows } = await loadWorkflows(entry);
  const report: ReplayAllReport = await withEngine(
    values,
    (cairn: Cairn) =>
      cairn.replayAll(workflows, {
        finished: options.finished,
        ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
      }),
    { readOnly: true },
  );
  if (options.json) printJson(report);
  else {
    for (const d of report.diverged) {
      print(`${d.runId} (${d.workflow} v${d.version}, ${d.status}): ${d.message}`);
    }
    const runs = `${report.checked} run${report.checked === 1 ? "" : "s"} replayed`;
    print(
      report.diverged.length === 0
        ? `${runs}: all consistent with ${entry}.`
        : `${runs}: ${report.diverged.length} diverged, ${report.consistent} consistent.`,
    );
  }
  if (report.diverged.length > 0) {
    if (options.json) process.exitCode = 1;
    else
      throw new CommandFailedError(
        `${report.diverged.length} run(s) would not resume as recorded.`,
      );
  }
}
