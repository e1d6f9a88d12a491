/**
 * `npm run bench:peers`: Cairn's W1–W4 (PostgreSQL store, then SQLite, the default store), then
 * DBOS, then Restate (graphile-worker with --with-graphile-worker), back to back in one
 * invocation, each engine in its own process. The PostgreSQL commit floor is measured once,
 * before the first engine. Prints one Markdown table (every engine's figure, the floor, Cairn
 * ÷ best peer) and writes every figure, per pass, with the machine's state when each engine
 * began, to results/side-by-side-<date>.json.
 *
 *   npm run bench:peers [-- --quick] [-- --passes=N] [-- --db postgres://…]
 *                       [-- --with-graphile-worker]
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DatabaseTarget } from "../database.ts";
import { measureFloor } from "../floor.ts";
import { type CommitFloor, describeSource, measureCpu } from "../machine.ts";
import type { BenchReport } from "../report.ts";
import { describeMachine, type Figures, round, writeResult } from "./harness.ts";
import { type EngineColumn, formatTable, ratioLegend, ratios } from "./side-by-side-table.ts";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const repoRoot = here("../../");

const usage = `Usage: npm run bench:peers -- [--quick] [--passes=N] [--db <postgres url>] [--with-graphile-worker]

  --quick                 smoke run: few repeats per engine, one pass for the peers
  --passes=N              passes of W1–W4 for each peer (default 4; Cairn's bench has its own)
  --db <url>              the PostgreSQL database Cairn's store and the floor use
                          (default postgres://postgres@127.0.0.1:5432/test)
  --with-graphile-worker  also run graphile-worker (a job queue, a rough baseline)`;

interface Args {
  quick: boolean;
  passes: number | undefined;
  db: string;
  graphile: boolean;
}

function parseArgs(argv: readonly string[]): Args | "help" {
  const args: Args = {
    quick: false,
    passes: undefined,
    db: "postgres://postgres@127.0.0.1:5432/test",
    graphile: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s) : [arg];
    if (flag === "--help" || flag === "-h") return "help";
    if (flag === "--quick") args.quick = true;
    else if (flag === "--with-graphile-worker") args.graphile = true;
    else if (flag === "--passes") {
      const n = Number(inline ?? argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--passes needs a whole number ≥ 1.`);
      args.passes = n;
    } else if (flag === "--db") {
      const url = inline ?? argv[++i] ?? "";
      if (!/^postgres(ql)?:\/\//.test(url)) {
        throw new Error(
          `--db needs a postgres:// URL (got "${url}"); Cairn's SQLite run needs none.`,
        );
      }
      args.db = url;
    } else throw new Error(`Unknown argument "${arg}".\n\n${usage}`);
  }
  return args;
}

/** What the machine was doing when an engine began: the figures are only as quiet as this. */
interface MachineState {
  at: string;
  /** `os.loadavg()`: 1, 5 and 15 minutes. */
  loadAverage: number[];
  /** CPU this process got while spinning 250 ms ÷ wall time: ≈ 1 quiet, ≈ 0.5 contended. */
  cpuAvailability: number;
  /**
   * The busiest processes by `ps` %CPU (CPU time over the process's lifetime), as the program
   * and its script's file name only: which other work shared the machine.
   */
  busiest: string[];
}

function machineState(): MachineState {
  let busiest: string[] = [];
  try {
    busiest = execFileSync("ps", ["-eo", "pcpu=,args=", "--sort=-pcpu"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((line) => line.trim())
      // ps itself, just started, shows as the busiest process.
      .filter((line) => !/^\S+\s+ps\s/.test(line))
      .slice(0, 5)
      .map((line) => {
        const [pcpu, ...argv] = line.trim().split(/\s+/);
        // The program and its script, flags skipped: "node vitest.mjs", not "node --flag".
        const script = argv.slice(1).find((w) => !w.startsWith("-"));
        const words = [argv[0], script].filter((w) => w !== undefined).map((w) => basename(w));
        return `${pcpu}% ${words.join(" ")}`;
      });
  } catch {
    // ps missing: the load average still says how busy the machine was.
  }
  return {
    at: new Date().toISOString(),
    loadAverage: os.loadavg().map((x) => round(x, 2)),
    cpuAvailability: measureCpu().cpuAvailability,
    busiest,
  };
}

/** Runs a command with its output shown as it comes; resolves with its exit code. */
function run(cmd: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** A peer's packages, installed from its lock file the first time (Restate's server binary too). */
async function ensureInstalled(peer: string): Promise<void> {
  const dir = here(`./${peer}/`);
  if (existsSync(join(dir, "node_modules", ".package-lock.json"))) return;
  console.log(`\n— installing ${peer}'s packages (npm ci in bench/peers/${peer}) —`);
  const code = await run("npm", ["ci", "--no-audit", "--no-fund"], dir);
  if (code !== 0) throw new Error(`npm ci in bench/peers/${peer} exited with ${code}`);
}

/** The durable commit floor of the PostgreSQL the run uses, in a schema of its own. */
async function postgresFloor(db: string): Promise<CommitFloor> {
  const url = new URL(db);
  url.searchParams.set("schema", `cairn_peers_floor_${Date.now().toString(36)}`);
  const target: DatabaseTarget = {
    dialect: "postgres",
    description: "the side-by-side run's commit floor",
    directory: undefined,
    fresh: () => url.toString(),
    dispose: async () => {},
  };
  return measureFloor(target, 300);
}

interface CairnRun {
  store: "postgres" | "sqlite";
  exitCode: number;
  figures: Figures | null;
  /** Cairn's own report, minus the raw samples: floors per workload, W3's passes, writes. */
  report: unknown;
}

function cairnFigures(r: BenchReport["results"]): Figures | null {
  if (!r.W1 || !r.W2 || !r.W3 || !r.W4) return null;
  return {
    w1MedianMs: round(r.W1.summary.median),
    w2MedianMs: round(r.W2.summary.median),
    w3StepsPerSecond: round(r.W3.stepsPerSecond, 0),
    w4P50Ms: round(r.W4.summary.median),
    w4P99Ms: round(r.W4.summary.p99),
  };
}

async function runCairn(store: CairnRun["store"], args: Args, out: string): Promise<CairnRun> {
  const dir = join(out, `cairn-${store}`);
  const cli = ["run", "--silent", "bench", "--", "--only", "W1,W2,W3,W4", "--out", dir];
  if (store === "postgres") cli.push("--db", args.db);
  if (args.quick) cli.push("--quick");
  const exitCode = await run("npm", cli, repoRoot);
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith("latest-")) : undefined;
  if (file === undefined) return { store, exitCode, figures: null, report: null };
  const report = JSON.parse(readFileSync(join(dir, file), "utf8")) as BenchReport;
  // The samples are in Cairn's own JSON; the combined file keeps the summaries.
  const results = Object.fromEntries(
    Object.entries(report.results).map(([id, r]) => {
      const { samplesMs: _samples, ...rest } = r as { samplesMs?: number[] };
      return [id, rest];
    }),
  );
  return {
    store,
    exitCode,
    figures: cairnFigures(report.results),
    report: { ...report, results },
  };
}

interface PeerRun {
  engine: string;
  exitCode: number;
  /** The peer bench's own JSON (package, setup, options, figures, every pass). */
  result: { package: string; figures: Figures } | null;
}

async function runPeer(engine: string, args: Args, out: string): Promise<PeerRun> {
  const file = join(out, `${engine}.json`);
  const cli = ["run", "--silent", "bench", "--", `--out=${file}`];
  if (args.quick) cli.push("--quick");
  if (args.passes !== undefined) cli.push(`--passes=${args.passes}`);
  const exitCode = await run("npm", cli, here(`./${engine}/`));
  const result = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
  return { engine, exitCode, result };
}

const peerNames: Record<string, string> = {
  dbos: "DBOS",
  restate: "Restate",
  "graphile-worker": "graphile-worker",
};

/** "DBOS 5.3.0" from "@dbos-inc/dbos-sdk@5.3.0"; Restate's server version first. */
function peerLabel(run: PeerRun): string {
  const version = run.result?.package.match(/@(\d[^\s+]*)/)?.[1];
  const name = peerNames[run.engine] ?? run.engine;
  return version ? `${name} ${version}` : name;
}

async function main(): Promise<number> {
  let args: Args | "help";
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (args === "help") {
    console.log(usage);
    return 0;
  }
  const peers = ["dbos", "restate", ...(args.graphile ? ["graphile-worker"] : [])];
  for (const peer of peers) await ensureInstalled(peer);

  const out = mkdtempSync(join(os.tmpdir(), "cairn-peers-"));
  try {
    const machine = { ...describeMachine(args.db), uptime: tryUptime() };
    console.log(`\n— PostgreSQL commit floor (300 autocommit INSERTs) —`);
    const floor = await postgresFloor(args.db).catch((error: Error) => {
      throw new Error(`the commit floor could not be measured on --db: ${error.message}`);
    });
    console.log(`${floor.commitMs} ms p50, ${floor.commitP90Ms} ms p90: ${floor.probe}`);

    const states: Record<string, MachineState> = {};
    const cairn: CairnRun[] = [];
    for (const store of ["postgres", "sqlite"] as const) {
      console.log(`\n— Cairn, ${store === "postgres" ? "PostgreSQL" : "SQLite"} store —`);
      states[`cairn-${store}`] = machineState();
      cairn.push(await runCairn(store, args, out));
    }
    const peerRuns: PeerRun[] = [];
    for (const peer of peers) {
      console.log(`\n— ${peerNames[peer]} —`);
      states[peer] = machineState();
      peerRuns.push(await runPeer(peer, args, out));
    }
    states.end = machineState();

    const columns: EngineColumn[] = [
      ...cairn.map(
        (c): EngineColumn => ({
          label: c.store === "postgres" ? "Cairn · PostgreSQL" : "Cairn · SQLite (default)",
          name: c.store === "postgres" ? "Cairn PG" : "Cairn SQLite",
          kind: "cairn",
          figures: c.figures,
        }),
      ),
      ...peerRuns.map(
        (p): EngineColumn => ({
          label: peerLabel(p),
          name: peerNames[p.engine] ?? p.engine,
          kind: "peer",
          figures: p.result?.figures ?? null,
        }),
      ),
    ];
    const table = formatTable(columns, floor.commitMs);
    const date = new Date().toISOString();
    // A password in --db stays out of the printed command and the JSON.
    const given = process.argv.slice(2).map((a) => a.replace(/(:\/\/[^:/@]+:)[^@]*@/, "$1***@"));
    const command = `npm run bench:peers${given.length > 0 ? ` -- ${given.join(" ")}` : ""}`;
    console.log(`\n${heading(command, machine, states, floor)}\n\n${table}\n\n${ratioLegend}\n`);
    console.log(`${cairnFloors(cairn)}\n`);
    console.log(describeStates(states));
    const stamp = `${date.slice(0, 19).replaceAll(":", "-")}Z${args.quick ? "-quick" : ""}`;
    writeResult(here(`./results/side-by-side-${stamp}.json`), {
      version: 1,
      date,
      quick: args.quick,
      command,
      machine,
      source: describeSource(repoRoot),
      commitFloor: floor,
      machineStateAtStart: states,
      table,
      ratios: ratios(columns),
      cairn,
      peers: peerRuns,
    });
    const failed = [...cairn, ...peerRuns].filter((r) => r.exitCode !== 0);
    for (const f of failed) {
      console.error(`${"store" in f ? `Cairn (${f.store})` : f.engine} exited with ${f.exitCode}`);
    }
    return failed.length > 0 ? 1 : 0;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function tryUptime(): string | null {
  try {
    return execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

/**
 * Cairn's bench re-measures its store's commit floor just before each workload; on a busy
 * machine that differs from the one taken before all engines, and it is what W1 and W4 waited on.
 */
function cairnFloors(runs: readonly CairnRun[]): string {
  const parts = runs.flatMap((run) => {
    const results = (run.report as Pick<BenchReport, "results"> | null)?.results;
    const one = (id: "W1" | "W4") => {
      const f = results?.[id]?.floor;
      return f ? `${id} ${f.ratio.toFixed(2)}× (${f.commits} × ${f.commitMs.toFixed(3)} ms)` : null;
    };
    const figures = [one("W1"), one("W4")].filter((x) => x !== null);
    const store = run.store === "postgres" ? "PostgreSQL" : "SQLite";
    return figures.length > 0 ? [`${store} ${figures.join(", ")}`] : [];
  });
  return parts.length === 0
    ? ""
    : `Cairn against its own store's floor, re-measured just before the workload: ${parts.join("; ")}.`;
}

/** What the table's figures are: when, how, on what, how busy the machine was (a Markdown list). */
function heading(
  command: string,
  machine: ReturnType<typeof describeMachine>,
  states: Record<string, MachineState>,
  floor: CommitFloor,
): string {
  const loads = Object.values(states).map((s) => s.loadAverage[0] ?? Number.NaN);
  const pg = machine.postgres;
  return [
    `\`${command}\`, ${machine.date.slice(0, 16).replace("T", " ")} UTC${command.includes("--quick") ? " (smoke run: not a measurement)" : ""}`,
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGB} GiB, Node ${machine.node}; ` +
      `PostgreSQL ${pg?.version ?? "?"} on the same machine (synchronous_commit=${pg?.synchronousCommit}, fsync=${pg?.fsync})`,
    `1-minute load average when each engine began: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; ` +
      `one PostgreSQL commit ${floor.commitMs.toFixed(3)} ms p50 (${floor.commitP90Ms.toFixed(3)} ms p90)`,
  ]
    .map((line) => `- ${line}`)
    .join("\n");
}

function describeStates(states: Record<string, MachineState>): string {
  const lines = Object.entries(states).map(
    ([engine, s]) =>
      `  ${engine.padEnd(16)} ${s.at.slice(11, 19)} UTC  load ${s.loadAverage.join(" ")}  cpu available ${s.cpuAvailability}`,
  );
  return `Machine state when each engine began (load average 1/5/15 min; ${os.cpus().length} cores):\n${lines.join("\n")}`;
}

process.exitCode = await main().catch((error: unknown) => {
  // An install that failed or a PostgreSQL that does not answer: say which, without a stack.
  console.error(`\nnpm run bench:peers stopped: ${(error as Error).message ?? String(error)}`);
  return 1;
});
