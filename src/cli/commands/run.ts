import type { Command } from "commander";
import type { RemoteCairn } from "../../client/remote-cairn.ts";
import { RemoteCairnError } from "../../client/remote-error.ts";
import { redactUrl } from "../../core/redact.ts";
import type { Cairn } from "../../sdk/cairn.ts";
import type { ResolvedConfig } from "../config.ts";
import { addConfigOptions } from "../config-keys.ts";
import { mayFallBack, neverReachedApi, remoteCairn, wantsDatabase, withEngine } from "../engine.ts";
import { exitCodes, parseJsonFlag } from "../errors.ts";
import { elapsedMs, RunFollower, type RunSnapshot, snapshotOf } from "../follow-run.ts";
import { formatDuration, note, print, printJson, toJsonText } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";
import { createProgressView } from "../run-view.ts";

interface RunOptions {
  input?: string;
  id?: string;
  wait?: boolean;
  json?: boolean;
  entry?: string;
}

interface Started {
  id: string;
  created: boolean;
  /** False when the id belonged to a run with another input: that run is returned, unchanged. */
  inputMatches: boolean;
}

/** `cairn run <workflow>`: starts a run and, with --wait, follows it live to its end. */
export function registerRunCommand(program: Command): void {
  const run = program
    .command("run")
    .description("start a run through the API of a running cairn dev/server (or the database)")
    .argument("<workflow>", "workflow name")
    .option("--input <json>", "the run's input as JSON")
    .option(
      "--id <id>",
      "run id; an existing id returns that run (exit 2 if its input differs from --input)",
    )
    .option("--wait", "follow the run live and exit with its outcome (0 completed, 1 otherwise)")
    .option("--entry <path>", "without an API: load the workflow's code to check the input here")
    .option("--json", "print the run (or, without --wait, its id) as JSON");
  addConfigOptions(run, ["url", "token", "db"]);
  run.addHelpText(
    "after",
    `
The run starts through the API at --url (CAIRN_URL, else http://127.0.0.1:7420). When nothing
answers there (and --url was not given), or with --db, it is stored in the database and runs
on whichever worker serves that database; --wait then follows it by polling.
With --wait, progress goes to stderr and the output (JSON) to stdout.
With --id, starting again with the same input returns the existing run (exit 0); when the
run of that id has another input, nothing starts: its id is printed and the exit code is 2.`,
  );
  run.action(async (workflow: string, opts: RunOptions) => {
    const input = parseJsonFlag("--input", opts.input);
    const resolved = await resolveConfig(run);
    const request = { workflow, input, ...(opts.id ? { id: opts.id } : {}) };
    let final: RunSnapshot | undefined;
    let started: Started | undefined;
    if (!wantsDatabase(resolved)) {
      try {
        ({ started, final } = await viaApi(await remoteCairn(resolved.values), request, opts));
      } catch (error) {
        if (!neverReachedApi(error) || !mayFallBack(resolved)) throw error;
        note(
          `note: ${error.message} Starting the run in the database ${redactUrl(resolved.values.db)}.`,
        );
      }
    }
    if (!started) ({ started, final } = await viaDatabase(resolved, request, opts));
    report(started, final, opts);
  });
}

async function viaApi(
  remote: RemoteCairn,
  request: { workflow: string; input: unknown; id?: string },
  opts: RunOptions,
): Promise<{ started: Started; final?: RunSnapshot }> {
  const start = async (): Promise<Started> => {
    const handle = await remote.start(request.workflow, request.input, {
      ...(request.id ? { id: request.id } : {}),
    });
    return { id: handle.id, created: handle.created, inputMatches: handle.inputMatches };
  };
  if (!opts.wait) return { started: await start() };
  let runId = "";
  const follower = new RunFollower(
    createProgressView(),
    async () => snapshotOf(await remote.getRun(runId)),
    300,
  );
  let unsubscribe: (() => void) | undefined;
  try {
    // Subscribed before the start, so not even the first step's events are missed.
    unsubscribe = await remote.subscribe((update) => follower.event(update));
    follower.live = true;
  } catch (error) {
    // Without the stream, polling still shows every step as it ends.
    if (!(error instanceof RemoteCairnError)) throw error;
    note("note: the API offers no event stream; progress is polled.");
  }
  try {
    const started = await start();
    runId = started.id;
    announce(started, request.workflow);
    if (!started.inputMatches) return { started };
    return { started, final: await follower.follow(started.id) };
  } finally {
    unsubscribe?.();
  }
}

async function viaDatabase(
  resolved: ResolvedConfig,
  request: { workflow: string; input: unknown; id?: string },
  opts: RunOptions,
): Promise<{ started: Started; final?: RunSnapshot }> {
  // By name, the engine stores the run for a worker with the code to admit (validating the
  // input there); with --entry the code is here and the input is checked before anything exists.
  const { loadWorkflow } = await import("../load-workflows.ts"); // tsx and the sdk: only here
  const workflow = opts.entry ? await loadWorkflow(opts.entry, request.workflow) : request.workflow;
  return withEngine(resolved.values, async (cairn: Cairn) => {
    const handle = await cairn.start(workflow, request.input, request.id ? { id: request.id } : {});
    const started = { id: handle.id, created: handle.created, inputMatches: handle.inputMatches };
    if (!opts.wait || !started.inputMatches) return { started };
    announce(started, request.workflow);
    note(
      `note: the run executes on a worker serving ${redactUrl(resolved.values.db)}; waiting for it.`,
    );
    const view = createProgressView();
    const hintAt = Date.now() + 5_000;
    let hinted = false;
    const snapshot = async () => {
      const run = snapshotOf(await cairn.getRun(started.id));
      if (run.status === "queued" && !hinted && Date.now() > hintAt) {
        hinted = true;
        view.note(
          `note: still queued; is a cairn dev or cairn worker running on ${redactUrl(resolved.values.db)}?`,
        );
      }
      return run;
    };
    const follower = new RunFollower(view, snapshot, 200);
    return { started, final: await follower.follow(started.id) };
  });
}

function announce(started: Started, workflow: string): void {
  if (started.created) note(`${workflow} run ${started.id} started`);
  else if (started.inputMatches) note(`run ${started.id} already exists (same id): following it`);
}

function report(started: Started, final: RunSnapshot | undefined, opts: RunOptions): void {
  if (!final) {
    if (opts.json) printJson(started);
    else print(started.id);
    // The id is taken by another input: starting "again" would silently drop this input.
    if (!started.inputMatches) {
      note(
        `error: run ${started.id} already exists with a different input; nothing was started (use another --id, or the same input to get that run back)`,
      );
      process.exitCode = exitCodes.usage;
    } else if (!started.created) {
      note(`note: run ${started.id} already exists with this input; it is returned as it is`);
    }
    return;
  }
  if (opts.json) printJson(final);
  const took = formatDuration(elapsedMs(final));
  if (final.status === "completed") {
    note(`run ${final.status} in ${took}`);
    if (!opts.json) print(toJsonText(final.output));
    return;
  }
  const error = final.error ? `: ${final.error.name}: ${final.error.message}` : "";
  note(`run ${final.status} after ${took}${error}`);
  process.exitCode = 1;
}
