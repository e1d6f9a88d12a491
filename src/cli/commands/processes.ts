import { existsSync } from "node:fs";
import type { Command } from "commander";
import { redactUrl } from "../../core/redact.ts";
import { addConfigOptions, type CairnConfig } from "../config-keys.ts";
import { UsageError } from "../errors.ts";
import { findFlowFiles } from "../find-flow-files.ts";
import type { LoadedWorkflows } from "../load-workflows.ts";
import { formatDuration, note, print, toJsonText } from "../output.ts";
import { queuesOf } from "../queues-of.ts";
import { resolveConfig } from "../resolve-config.ts";
import { supervise, supervisedVariable } from "../supervise.ts";

const httpKeys = ["host", "port", "bodyLimitBytes", "allowedHosts", "allowedOrigins"] as const;
const common = ["db", "drainTimeout", "logLevel", "retention"] as const;

/** `cairn dev`, `cairn worker`, `cairn server`: the long-running processes. */
export function registerProcessCommands(program: Command): void {
  const dev = program
    .command("dev")
    .description(
      "run workflows locally: worker and API on http://127.0.0.1:7420, SQLite in .cairn/",
    )
    .argument("[entry]", "file or folder of workflows (default: ./workflows if present)");
  addConfigOptions(dev, [...common, ...httpKeys, "concurrency"]);
  dev
    .option("--json", "print the startup summary as one JSON line")
    .option("--no-watch", "do not reload workflows when their files change");
  addLogFormatOption(dev).action(async (entry, opts) => {
    const { values: config } = await resolveConfig(dev);
    const path = entry ?? (existsSync("workflows") ? "workflows" : undefined);
    const flowFiles = path === undefined ? [] : findFlowFiles(path);
    const loaded = await loadEntry(path, flowFiles.length > 0);
    const watchEntry = opts.watch && loaded.workflows.length > 0 ? path : undefined;
    await runProcess("dev", config, loaded, { ...opts, watchEntry }, flowFiles);
  });

  const worker = program
    .command("worker")
    .description("run a worker for the workflows of an entry and every deployed flow (no API)")
    .argument("[entry]", "file or folder of workflows (none: deployed flows only)");
  addConfigOptions(worker, [...common, "concurrency", "queue"]);
  worker
    .option("--json", "print the startup summary as one JSON line")
    .option("--no-supervise", "run the worker in this process, with no restart after a crash");
  addLogFormatOption(worker).action(async (entry: string | undefined, opts) => {
    if (opts.supervise && !process.env[supervisedVariable]) {
      // Workflow code loads only in the child: this process just restarts it.
      process.exitCode = await supervise((message) => note(`cairn: ${message}`));
      return;
    }
    const { values: config } = await resolveConfig(worker);
    const loaded = entry === undefined ? noWorkflows : await loadEntry(entry);
    await runProcess("worker", config, loaded, opts);
  });

  const server = program
    .command("server")
    .description("serve the HTTP API on a database (no workflow code, no worker)");
  addConfigOptions(server, [...common, ...httpKeys]);
  server.option("--json", "print the startup summary as one JSON line");
  addLogFormatOption(server).action(async (opts) => {
    const { values: config } = await resolveConfig(server);
    await runProcess("server", config, noWorkflows, opts);
  });
}

type Kind = "dev" | "worker" | "server";

function addLogFormatOption(command: Command): Command {
  return command.option(
    "--log-format <format>",
    "json or pretty (default: pretty on a terminal, json otherwise)",
  );
}
const noWorkflows: LoadedWorkflows = { workflows: [], origins: [], skipped: [] };

/** Runs until SIGTERM/SIGINT: dev = worker + API, worker = worker only, server = API only. */
async function runProcess(
  kind: Kind,
  config: CairnConfig,
  loaded: LoadedWorkflows,
  opts: { json?: boolean; logFormat?: string; watchEntry?: string | undefined },
  flowFiles: readonly string[] = [],
): Promise<void> {
  const entry = opts.watchEntry;
  const { watchEntry } = entry ? await import("../dev-watch/watch-entry.ts") : {};
  const { resolveLogFormat } = await import("../dev-log/process-logging.ts");
  const logFormat = resolveLogFormat(opts.logFormat);
  const { serve } = await import("../serve.ts"); // the engine and HTTP stack load only here
  const json = opts.json;
  process.exitCode = await serve({
    logFormat,
    ...(entry && watchEntry
      ? { watch: (cairn, logger) => watchEntry(entry, loaded.workflows, cairn, logger) }
      : {}),
    config,
    workflows: loaded.workflows,
    flowFiles,
    // A local development server: http steps may call services on this machine.
    ...(kind === "dev"
      ? { flows: { http: { allowHosts: ["127.0.0.1", "localhost", "::1"] } } }
      : {}),
    worker: kind !== "server",
    http: kind !== "worker",
    ready: ({ url }) => summary(kind, config, loaded, url, json),
  });
}

async function loadEntry(entry: string | undefined, hasFlows = false): Promise<LoadedWorkflows> {
  if (entry === undefined) {
    note("note: no entry given and no ./workflows folder: starting without workflows.");
    return noWorkflows;
  }
  const { loadWorkflows } = await import("../load-workflows.ts");
  const loaded = await loadWorkflows(entry);
  if (loaded.workflows.length === 0 && !hasFlows) {
    throw new UsageError(
      `No workflows found in ${entry}: export each one, e.g. \`export const x = defineWorkflow(…)\`.`,
    );
  }
  return loaded;
}

function summary(
  kind: Kind,
  config: CairnConfig,
  loaded: LoadedWorkflows,
  url: string | undefined,
  json: boolean | undefined,
): void {
  const worker =
    kind === "server" ? null : { concurrency: config.concurrency, queue: config.queue ?? null };
  if (json) {
    print(
      toJsonText(
        {
          kind,
          url: url ?? null,
          db: redactUrl(config.db),
          workflows: loaded.origins,
          skipped: loaded.skipped,
          worker,
          pid: process.pid,
        },
        0,
      ),
    );
    return;
  }
  print(`Cairn ${kind} · database ${redactUrl(config.db)}`);
  if (kind !== "server") {
    print(`Workflows (${loaded.origins.length}):`);
    const width = Math.max(0, ...loaded.origins.map((o) => o.name.length));
    for (const o of loaded.origins) print(`  ${o.name.padEnd(width)}  ${o.file}`);
    for (const s of loaded.skipped) print(`  (skipped ${s.file}: ${s.reason})`);
  }
  if (worker)
    print(
      `Worker: ${worker.concurrency} runs at once, queues ${queuesOf(config.queue).join(", ")}`,
    );
  if (url) print(`API and web UI: ${url}`);
  print(
    `Ready. Ctrl-C stops; in-flight steps get ${formatDuration(config.drainTimeout)} to finish.`,
  );
}
