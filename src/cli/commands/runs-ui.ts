import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { LogLine, RemoteRunSelection } from "../../client/wire-operations.ts";
import type { RunId, RunStatus } from "../../core/types.ts";
import type { BulkAction, BulkResult } from "../../engine/bulk-runs.ts";
import type { RunFilter } from "../../store/store.ts";
import type { ResolvedConfig } from "../config.ts";
import { addConfigOptions } from "../config-keys.ts";
import { apiOrDatabase } from "../engine.ts";
import { UsageError } from "../errors.ts";
import { formatTime, print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

const filterKeys = ["workflow", "status", "from", "to", "tag", "idPrefix"] as const;

/** Collects repeated `--filter key=value` options. */
export function collectFilter(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--filter key=value ...` as the API's selection. @throws UsageError naming the bad filter */
export function parseFilters(filters: readonly string[]): Record<string, string | string[]> {
  const selection: Record<string, string | string[]> = {};
  for (const filter of filters) {
    const at = filter.indexOf("=");
    const key = filter.slice(0, at);
    if (at < 1 || !(filterKeys as readonly string[]).includes(key)) {
      throw new UsageError(
        `--filter "${filter}" must be key=value with key one of ${filterKeys.join(", ")}.`,
      );
    }
    const value = filter.slice(at + 1);
    if (key === "tag") selection.tag = [...[selection.tag ?? []].flat(), value];
    else selection[key] = value;
  }
  return selection;
}

function toStoreFilter(selection: Record<string, string | string[]>): Omit<RunFilter, "limit"> {
  const time = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(ms))
      throw new UsageError(`--filter ${name}= must be an ISO time, got "${text}".`);
    return ms;
  };
  const one = (key: string) => selection[key] as string | undefined;
  const createdAfter = time("from", one("from"));
  const createdBefore = time("to", one("to"));
  const tags = [selection.tag ?? []].flat().map((t) => {
    const at = t.indexOf(":");
    if (at < 1) throw new UsageError(`--filter tag= must be key:value, got "${t}".`);
    return { key: t.slice(0, at), value: t.slice(at + 1) };
  });
  return {
    ...(one("workflow") ? { workflow: one("workflow") } : {}),
    ...(one("status") ? { status: one("status") as RunStatus } : {}),
    ...(one("idPrefix") ? { idPrefix: one("idPrefix") } : {}),
    ...(createdAfter === undefined ? {} : { createdAfter }),
    ...(createdBefore === undefined ? {} : { createdBefore }),
    ...(tags.length > 0 ? { tags } : {}),
  };
}

/**
 * `cairn runs cancel|retry --filter ...`: counts first (a dry run), then acts after `--yes`
 * or a confirmation on a terminal. Without a terminal and without `--yes` it acts on nothing
 * and exits 2.
 */
export async function runBulk(
  command: Command,
  action: BulkAction,
  opts: { filter: string[]; yes?: boolean; json?: boolean },
): Promise<void> {
  const selection = parseFilters(opts.filter);
  const resolved = await resolveConfig(command);
  const call = (dryRun: boolean) =>
    apiOrDatabase<BulkResult>(
      resolved,
      (remote) => remote.bulk({ action, filter: selection as RemoteRunSelection, dryRun }),
      (cairn) => cairn.bulk({ action, filter: toStoreFilter(selection), dryRun }),
    );
  const dry = await call(true);
  const verb = action === "cancel" ? "cancel" : "retry";
  const eligible = dry.ids.length;
  if (eligible === 0) {
    if (opts.json) return printJson(dry);
    return print(`${dry.matched} runs match; none to ${verb}.`);
  }
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      throw new UsageError(
        `${dry.matched} runs match, ${eligible} to ${verb}. Nothing done: add --yes to ${verb} them (no terminal to confirm on).`,
      );
    }
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(
      `${dry.matched} runs match, ${eligible} to ${verb}. ${verb[0]?.toUpperCase()}${verb.slice(1)} them? [y/N] `,
    );
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) return print("Nothing done.");
  }
  const done = await call(false);
  if (opts.json) return printJson(done);
  print(
    `${verb === "cancel" ? "Cancelled" : "Retried"} ${done.affected} of ${done.matched} matching runs.`,
  );
}

function printLine(line: LogLine): void {
  const where = line.stepKey === null ? "workflow" : `${line.stepKey}#${line.attempt}`;
  const fields = line.fields ? ` ${JSON.stringify(line.fields)}` : "";
  print(
    `${formatTime(new Date(line.at)).slice(11)} ${line.level.toUpperCase().padEnd(5)} [${where}] ${line.message}${fields}`,
  );
}

/** Reads a page of log lines from the API, or from the database when no API answers. */
async function readLogs(
  resolved: ResolvedConfig,
  id: string,
  afterSeq: number,
  step: string | undefined,
): Promise<{ logs: LogLine[]; status: RunStatus }> {
  return apiOrDatabase(
    resolved,
    async (remote) => {
      const page = await remote.runLogs(id, { afterSeq, limit: 1000, ...(step ? { step } : {}) });
      return { logs: page.logs, status: (await remote.getRun(id)).status };
    },
    async (cairn) => {
      const run = await cairn.store.getRun(id as RunId);
      if (!run) throw new UsageError(`No run with id "${id}".`);
      const { toLogLine } = await import("../../server/wire-logs.ts");
      const logs = await cairn.store.logs.list(run.id, {
        afterSeq,
        limit: 1000,
        ...(step ? { stepKey: step } : {}),
      });
      return { logs: logs.map(toLogLine), status: run.status };
    },
  );
}

export function registerRunsUiCommands(runs: Command): void {
  const logs = runs
    .command("logs")
    .description("print a run's log lines (ctx.log, steps' log and console output)")
    .argument("<id>", "run id")
    .option("--step <key>", "only this step's lines")
    .option("--follow", "keep printing new lines until the run ends")
    .option("--json", "print one JSON object per line");
  addConfigOptions(logs, ["url", "token", "db"]).action(async (id: string, opts) => {
    const resolved = await resolveConfig(logs);
    let afterSeq = 0;
    for (let idle = 0; ; ) {
      const page = await readLogs(resolved, id, afterSeq, opts.step);
      for (const line of page.logs) {
        if (opts.json) print(JSON.stringify(line));
        else printLine(line);
        afterSeq = line.seq;
      }
      if (page.logs.length === 1000) continue;
      const ended = ["completed", "failed", "cancelled"].includes(page.status);
      // After the end, one more read catches lines stored just before it.
      if (!opts.follow || (ended && idle++ > 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });

  const rerun = runs
    .command("rerun")
    .description("start a new run that reuses a run's journal before a step and executes from it")
    .argument("<id>", "the original run")
    .requiredOption(
      "--from-step <key>",
      "the step to execute again (its key, e.g. charge or charge#2)",
    )
    .option("--input <json>", "new input as JSON (default: the original run's input)")
    .option("--json", "print JSON");
  addConfigOptions(rerun, ["url", "token", "db"]).action(async (id: string, opts) => {
    let input: unknown;
    if (opts.input !== undefined) {
      try {
        input = JSON.parse(opts.input);
      } catch (error) {
        throw new UsageError(`--input is not valid JSON: ${(error as Error).message}`);
      }
    }
    const resolved = await resolveConfig(rerun);
    const body = { fromStep: opts.fromStep, ...(opts.input === undefined ? {} : { input }) };
    const created = await apiOrDatabase(
      resolved,
      async (remote) => ({ id: (await remote.rerun(id, body)).id }),
      async (cairn) => ({ id: (await cairn.rerun(id, body)).id }),
    );
    if (opts.json) return printJson({ id: created.id, rerunOf: id, fromStep: opts.fromStep });
    print(`Started run ${created.id}: a rerun of ${id} from step "${opts.fromStep}".`);
  });
}
