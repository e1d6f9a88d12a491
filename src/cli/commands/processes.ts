import { existsSync } from "node:fs";
import type { Command } from "commander";
import { addConfigOptions, type CairnConfig, resolveConfig } from "../config-keys.ts";
import { UsageError } from "../errors.ts";
import { findFlowFiles } from "../find-flow-files.ts";
import { type LoadedWorkflows, loadWorkflows } from "../load-workflows.ts";
import { formatDuration, note, print, toJsonText } from "../output.ts";

const httpKeys = ["host", "port", "bodyLimitBytes", "allowedHosts", "allowedOrigins"] as const;
const common = ["db", "drainTimeout", "logLevel"] as const;

/** `cairn dev`, `cairn worker`, `cairn server`: the long-running processes. */
export function registerProcessCommands(program: Command): void {
  const dev = program
    .command("dev")
    .description(
      "run workflows locally: worker and API on http://127.0.0.1:7420, SQLite in .cairn/",
    )
    .argument("[entry]", "file or folder of workflows (default: ./workflows if present)");
  addConfigOptions(dev, [...common, ...httpKeys, "concurrency"]);
  dev.option("--json", "print the startup summary as one JSON line").action(async (entry, opts) => {
    const { values: config } = await resolveConfig(dev);
    const folder = entry ?? (existsSync("workflows") ? "workflows" : undefined);
    const flowFiles = folder === undefined ? [] : findFlowFiles(folder);
    const loaded = await loadEntry(folder, flowFiles.length > 0);
    await runProcess("dev", config, loaded, opts.json, flowFiles);
  });

  const worker = program
    .command("worker")
    .description("run a worker for the workflows of an entry and every deployed flow (no API)")
    .argument("[entry]", "file or folder of workflows (none: deployed flows only)");
  addConfigOptions(worker, [...common, "concurrency", "queue"]);
  worker
    .option("--json", "print the startup summary as one JSON line")
    .action(async (entry: string | undefined, opts) => {
      const { values: config } = await resolveConfig(worker);
      const loaded = entry === undefined ? noWorkflows : await loadEntry(entry);
      await runProcess("worker", config, loaded, opts.json);
    });

  const server = program
    .command("server")
    .description("serve the HTTP API on a database (no workflow code, no worker)");
  addConfigOptions(server, [...common, ...httpKeys]);
  server.option("--json", "print the startup summary as one JSON line").action(async (opts) => {
    const { values: config } = await resolveConfig(server);
    await runProcess("server", config, noWorkflows, opts.json);
  });
}

type Kind = "dev" | "worker" | "server";

/** `--queue gpu,default` → the queues a worker takes runs from. (Default: ["default"]) */
export function queuesOf(queue: string | undefined): string[] {
  const queues = (queue ?? "default")
    .split(",")
    .map((q) => q.trim())
    .filter(Boolean);
  return queues.length > 0 ? queues : ["default"];
}
const noWorkflows: LoadedWorkflows = { workflows: [], origins: [], skipped: [] };

/** Runs until SIGTERM/SIGINT: dev = worker + API, worker = worker only, server = API only. */
async function runProcess(
  kind: Kind,
  config: CairnConfig,
  loaded: LoadedWorkflows,
  json: boolean | undefined,
  flowFiles: readonly string[] = [],
): Promise<void> {
  const { serve } = await import("../serve.ts"); // the engine and HTTP stack load only here
  process.exitCode = await serve({
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
          db: config.db,
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
  print(`Cairn ${kind} · database ${config.db}`);
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
