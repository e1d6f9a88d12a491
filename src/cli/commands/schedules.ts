import type { Command } from "commander";
import type { ScheduleInfo } from "../../engine/schedules-api.ts";
import type { CatchupPolicy, OverlapPolicy } from "../../store/store.ts";
import { addConfigOptions } from "../config-keys.ts";
import { withEngine } from "../engine.ts";
import { parseJsonFlag, parsePositiveInt, UsageError } from "../errors.ts";
import { formatTable, formatTime, print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

/**
 * `cairn schedules list|create|pause|resume|delete|backfill|preview`, on the database
 * (`--db`): schedules are rows, fired by whichever worker runs the workflow.
 */
export function registerScheduleCommands(program: Command): void {
  const schedules = program
    .command("schedules")
    .description("cron schedules: list, pause, resume, backfill");

  const list = schedules
    .command("list")
    .description("list schedules")
    .option("--json", "print JSON");
  addConfigOptions(list, ["db"]).action(async (opts) => {
    const { values } = await resolveConfig(list);
    const found = await withEngine(values, (cairn) => cairn.schedules.list());
    if (opts.json) return printJson(found);
    if (found.length === 0) return print("No schedules.");
    print(
      formatTable(
        ["ID", "WORKFLOW", "CRON", "TZ", "OVERLAP", "CATCH-UP", "STATE", "NEXT"],
        found.map((s) => [
          s.id,
          s.workflow,
          s.cron,
          s.tz,
          s.overlap,
          s.catchup,
          s.paused ? "paused" : "active",
          formatTime(s.nextAt),
        ]),
      ),
    );
  });

  const create = schedules
    .command("create")
    .description("create or replace a schedule")
    .requiredOption("--workflow <name>", "the workflow each slot starts")
    .requiredOption(
      "--cron <expr>",
      'cron expression, 5 or 6 fields (seconds first), e.g. "0 * * * *"',
    )
    .option("--id <id>", "schedule id (default: random)")
    .option("--tz <zone>", "IANA time zone (default: UTC)")
    .option("--input <json>", "input of every run")
    .option("--overlap <policy>", "skip | queue | allow (default: skip)")
    .option("--catchup <policy>", "none | latest | all (default: latest)")
    .option("--paused", "create it paused")
    .option("--json", "print JSON");
  addConfigOptions(create, ["db"]).action(async (opts) => {
    const overlap = oneOf<OverlapPolicy>("--overlap", opts.overlap, ["skip", "queue", "allow"]);
    const catchup = oneOf<CatchupPolicy>("--catchup", opts.catchup, ["none", "latest", "all"]);
    const input = opts.input === undefined ? undefined : parseJsonFlag("--input", opts.input);
    const { values } = await resolveConfig(create);
    const schedule = await withEngine(values, (cairn) =>
      cairn.schedules.create({
        workflow: opts.workflow,
        cron: opts.cron,
        ...(opts.id ? { id: opts.id } : {}),
        ...(opts.tz ? { tz: opts.tz } : {}),
        ...(input === undefined ? {} : { input }),
        ...(overlap ? { overlap } : {}),
        ...(catchup ? { catchup } : {}),
        ...(opts.paused ? { paused: true } : {}),
      }),
    );
    show(schedule, opts.json);
  });

  for (const [name, description] of [
    [
      "pause",
      "stop firing a schedule (slots missed meanwhile follow its catch-up policy on resume)",
    ],
    ["resume", "resume a paused schedule"],
  ] as const) {
    const command = schedules
      .command(name)
      .description(description)
      .argument("<id>", "schedule id")
      .option("--json", "print JSON");
    addConfigOptions(command, ["db"]).action(async (id: string, opts) => {
      const { values } = await resolveConfig(command);
      show(await withEngine(values, (cairn) => cairn.schedules[name](id)), opts.json);
    });
  }

  const remove = schedules
    .command("delete")
    .description("delete a schedule (its runs stay)")
    .argument("<id>", "schedule id");
  addConfigOptions(remove, ["db"]).action(async (id: string) => {
    const { values } = await resolveConfig(remove);
    const deleted = await withEngine(values, (cairn) => cairn.schedules.delete(id));
    if (!deleted) throw new UsageError(`No schedule with id "${id}".`);
    print(`Deleted schedule ${id}.`);
  });

  const backfill = schedules
    .command("backfill")
    .description("create one run per slot in [from, to); slots that already ran are left alone")
    .argument("<id>", "schedule id")
    .requiredOption("--from <time>", "ISO date or time, inclusive")
    .requiredOption("--to <time>", "ISO date or time, exclusive")
    .option("--json", "print JSON");
  addConfigOptions(backfill, ["db"]).action(async (id: string, opts) => {
    const from = parseTime("--from", opts.from);
    const to = parseTime("--to", opts.to);
    const { values } = await resolveConfig(backfill);
    const result = await withEngine(values, (cairn) => cairn.schedules.backfill(id, { from, to }));
    if (opts.json) return printJson(result);
    print(`${result.slots} slot(s) in range; ${result.created.length} new run(s) created.`);
    for (const runId of result.created) print(`  ${runId}`);
  });

  const preview = schedules
    .command("preview")
    .description("the next fire times of a schedule")
    .argument("<id>", "schedule id")
    .option("--count <n>", "how many (default: 5)")
    .option("--json", "print JSON");
  addConfigOptions(preview, ["db"]).action(async (id: string, opts) => {
    const count = opts.count === undefined ? 5 : parsePositiveInt("--count", opts.count);
    const { values } = await resolveConfig(preview);
    const times = await withEngine(values, (cairn) => cairn.schedules.preview(id, count));
    if (opts.json) return printJson(times);
    for (const time of times) print(time.toISOString());
  });
}

function show(schedule: ScheduleInfo, json: boolean | undefined): void {
  if (json) {
    printJson(schedule);
    return;
  }
  print(
    `${schedule.id}: ${schedule.workflow} at "${schedule.cron}" (${schedule.tz}), ` +
      `${schedule.paused ? "paused" : "active"}, next ${schedule.nextAt.toISOString()}`,
  );
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T))
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${value}".`);
  return value as T;
}

function parseTime(flag: string, value: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new UsageError(`${flag} must be an ISO date or time, got "${value}".`);
  return time;
}
