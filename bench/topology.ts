/**
 * W6, the production topology (`npm run bench -- --topology`): a `cairn server` process with
 * no worker starts the runs it is asked for over HTTP, and 1, then 2, separate `cairn worker`
 * processes claim them, on one database. Measured in turns with the same workloads with the
 * worker in the starting process: W3-like throughput (200 runs × 10 steps started at once)
 * and W4-like latency (one-step runs one after another, from the HTTP start until `result()`
 * returns in the bench's own process, which has no worker).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { RunId } from "../src/core/types.ts";
import { Cairn } from "../src/index.ts";
import { type DatabaseTarget, openEngine } from "./database.ts";
import { describeMachine, describeSource, measureCpu } from "./machine.ts";
import { writeReport } from "./print.ts";
import { machineBusyMs, ownCpuMs, processCpuMs } from "./process-cpu.ts";
import { StartClient } from "./start-client.ts";
import { median, round, roundSummary, type Summary, summarize } from "./stats.ts";
import { measureWakeFloor } from "./wake-floor.ts";
import { plan, startLatencyRun, throughputPass, warmUp } from "./workloads.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const workflowsFile = fileURLToPath(new URL("./workflows.ts", import.meta.url));

const w3Runs = 200;
const w3Steps = 10;
/**
 * The work each topology's processes do before they are measured. The in-process side runs
 * after the bench's warm-up (compiled code, as in a server that has run for a while); fresh
 * `cairn server` and `cairn worker` processes, measured from their first requests, were
 * still compiling: a server's CPU per HTTP start fell from 0.55 to 0.17 ms over its first
 * 3,000 starts. A long-running server and workers are what production has.
 */
const processWarmUp = { passes: 15, latencyRuns: 100 };
/** `connect()` runs before the client's W4-like figure (the client's own first requests). */
const clientWarmups = 20;
/**
 * The in-process side is measured alternately with each topology, pass for pass and in
 * blocks of W4-like runs, so that both sides see the same minutes of a shared host: measured
 * a minute apart, in-process W3 alone moved between 9,400 and 15,400 steps/s on one host.
 */
const latencyBlock = 20;
/** Runs at the head of each block left out: the first after the other side ran is colder. */
const latencyBlockWarmups = 2;
/** Runs still stepping below which a W3-like pass's end is checked for every millisecond. */
const tailRuns = 20;

interface TopologyCounts {
  passes: number;
  warmupPasses: number;
  latencyRuns: number;
  latencyWarmups: number;
  /** In-process W4 runs before the measured ones (the topology's own come first). */
  inProcessLatencyWarmups: number;
}

/** W6 targets: the production topology against the same workloads in one process. */
export const topologyTargets = { minThroughputRatio: 0.8, maxP50Ratio: 2 };

/** Where a W3-like pass went: its HTTP starts' share of the time, and each process's CPU. */
interface PassFigures {
  stepsPerSecond: number;
  /** From the first POST until the last one was answered. */
  startsMs: number;
  wallMs: number;
  /** CPU ms of the pass (null without /proc): the server, each worker, the bench's client. */
  cpuMs: { server: number | null; workers: (number | null)[]; client: number };
  /** The whole machine's busy CPU ms during the pass (null without /proc). */
  machineMs: number | null;
}

/** The in-process side, measured in turns with one topology. */
interface InProcessFigures {
  stepsPerSecond: number;
  passes: number[];
  latency: Summary;
}

/**
 * The whole machine's busy CPU (every process, the database server's included), per W3-like
 * pass (median) and per W4-like run (mean), on each side; null without /proc. Where the
 * in-process side keeps every core busy, in-process ÷ topology per pass bounds the W3-like
 * ratio.
 */
interface MachineCpu {
  w3PassMs: { topology: number | null; inProcess: number | null };
  w4RunMs: { topology: number | null; inProcess: number | null };
}

interface TopologyFigures {
  workers: number;
  /** The same workloads in one process, measured alternately with this topology. */
  inProcess: InProcessFigures;
  machineCpu: MachineCpu;
  stepsPerSecond: number;
  passes: number[];
  passDetails: PassFigures[];
  latency: Summary;
  /** W4-like as an application sees it through the HTTP client: `connect()`'s start and `result()`. */
  clientLatency: Summary;
  /** Against the in-process figures measured in turns with it. */
  throughputRatio: number;
  p50Ratio: number;
  /** W4-like p50 less the in-process p50: what the topology adds, cross-process wake-ups included. */
  overInProcessMs: number;
  load1m: number;
}

/** Processes a W4-like run wakes one after another: the server, a worker, the waiting bench. */
const wakeUpsPerRun = 3;

export async function topologyBench(
  target: DatabaseTarget,
  quick: boolean,
  resultsDir: string,
): Promise<number> {
  const machine = describeMachine();
  const p = plan(quick);
  const counts: TopologyCounts = {
    passes: quick ? 2 : 7,
    warmupPasses: quick ? 1 : processWarmUp.passes,
    latencyRuns: quick ? 2 * latencyBlock : 5 * latencyBlock,
    latencyWarmups: quick ? 10 : processWarmUp.latencyRuns,
    inProcessLatencyWarmups: p.w4.warmups,
  };
  console.log(`W6 production topology · ${target.dialect} · ${machine.date}`);
  process.stdout.write("in-process warm-up … ");
  const warmedUp = await warmUp(target, p.warmUp);
  console.log(`done in ${(warmedUp.ms / 1000).toFixed(1)} s`);
  process.stdout.write("cross-process wake-up … ");
  const wake = await measureWakeFloor(quick ? 50 : 200);
  console.log(`${wake.roundTripMs.toFixed(2)} ms there and back`);
  const topologies: TopologyFigures[] = [];
  for (const workers of [1, 2]) {
    process.stdout.write(
      `cairn server + ${workers} cairn worker process(es), in turns with in-process … `,
    );
    const figures = await measureTopology(target, workers, counts);
    const load1m = measureCpu().loadAverage1m;
    const { inProcess } = figures;
    const entry: TopologyFigures = {
      workers,
      ...figures,
      throughputRatio: round(figures.stepsPerSecond / inProcess.stepsPerSecond, 2),
      p50Ratio: round(figures.latency.median / inProcess.latency.median, 2),
      overInProcessMs: round(figures.latency.median - inProcess.latency.median, 2),
      load1m,
    };
    topologies.push(entry);
    console.log(
      `${Math.round(entry.stepsPerSecond)} against ${Math.round(inProcess.stepsPerSecond)} steps/s, p50 ${entry.latency.median.toFixed(2)} against ${inProcess.latency.median.toFixed(2)} ms`,
    );
  }
  const lines = [
    "",
    `W6 production topology · ${target.dialect} · ${target.description}`,
    `  machine ${machine.cpuModel} · ${machine.cores} cores · Node ${machine.node} · ${machine.date}`,
    `  warm-up: in-process, ${warmedUp.rounds} rounds of every workload's shape; each topology's processes, ${counts.warmupPasses} W3-like passes and ${counts.latencyWarmups} W4-like runs before anything is measured`,
    `  measured in turns: each topology's W3-like passes with as many in-process W3 passes, its W4-like runs with in-process W4 runs in blocks of ${latencyBlock}; the ratios compare the medians of each side's turns`,
    `  wake-up floor: a datagram to an idle process and back, ${wake.gapMs} ms after the last, ${wake.roundTripMs.toFixed(2)} ms p50 (p90 ${wake.roundTripP90Ms.toFixed(2)}): one process waking another ≈ ${wake.oneWayMs.toFixed(2)} ms; a W4-like run wakes ${wakeUpsPerRun} in turn (server, worker, waiter), ≈ ${(wakeUpsPerRun * wake.oneWayMs).toFixed(2)} ms over in-process that no code of ours can save`,
    "",
    "workers  W3-like steps/s (× in-process, target ≥ 0.8)  W4-like p50 / p99 (× in-process p50, target ≤ 2)  verdict",
  ];
  let met = 0;
  for (const t of topologies) {
    const ok =
      t.throughputRatio >= topologyTargets.minThroughputRatio &&
      t.p50Ratio <= topologyTargets.maxP50Ratio;
    if (ok) met++;
    lines.push(
      `${String(t.workers).padEnd(7)}  ${`${int(t.stepsPerSecond)} (${t.throughputRatio.toFixed(2)}×; passes ${t.passes.map(int).join(", ")})`.padEnd(44)}  ${`${t.latency.median.toFixed(2)} / ${t.latency.p99.toFixed(2)} ms (${t.p50Ratio.toFixed(2)}×)`.padEnd(49)}  ${ok ? "PASS" : "MISS"}   load ${t.load1m}`,
    );
  }
  lines.push("", "in-process, in turns with each topology: W3 steps/s (passes), W4 p50 / p99");
  for (const { workers, inProcess } of topologies) {
    lines.push(
      `${String(workers).padEnd(7)}  ${`${int(inProcess.stepsPerSecond)} (passes ${inProcess.passes.map(int).join(", ")})`.padEnd(44)}  ${inProcess.latency.median.toFixed(2)} / ${inProcess.latency.p99.toFixed(2)} ms`,
    );
  }
  lines.push("", "W4-like p50 over in-process (the wake-up floor's share)");
  for (const t of topologies) {
    const floorMs = wakeUpsPerRun * wake.oneWayMs;
    lines.push(
      `${String(t.workers).padEnd(7)}  +${t.overInProcessMs.toFixed(2)} ms (${floorMs.toFixed(2)} ms, ${Math.round((100 * floorMs) / Math.max(t.overInProcessMs, 0.01))} %)`,
    );
  }
  lines.push(
    "",
    "W4-like through the HTTP client (`connect()`: start, then `result()`), p50 / p99",
  );
  for (const t of topologies) {
    lines.push(
      `${String(t.workers).padEnd(7)}  ${t.clientLatency.median.toFixed(2)} / ${t.clientLatency.p99.toFixed(2)} ms`,
    );
  }
  lines.push(
    "",
    "W3-like pass, median: HTTP starts answered after / pass wall, CPU ms per process",
  );
  for (const t of topologies)
    lines.push(`${String(t.workers).padEnd(7)}  ${describePasses(t.passDetails)}`);
  lines.push(
    "",
    "the whole machine's busy CPU (database included), topology against in-process: per W3-like pass (median; where the in-process side keeps every core busy, in-process ÷ topology bounds the W3-like ratio) and per W4-like run",
  );
  for (const { workers, machineCpu: m } of topologies) {
    const { topology: pass, inProcess: localPass } = m.w3PassMs;
    const bound =
      pass !== null && localPass !== null ? ` (bound ${(localPass / pass).toFixed(2)}×)` : "";
    lines.push(
      `${String(workers).padEnd(7)}  ${pass ?? "?"} against ${localPass ?? "?"} ms${bound} · ${m.w4RunMs.topology ?? "?"} against ${m.w4RunMs.inProcess ?? "?"} ms`,
    );
  }
  lines.push("", `${met}/${topologies.length} topologies met the W6 target.`);
  console.log(lines.join("\n"));
  const report = {
    // 2: the in-process figures moved into each topology, measured in turns with it.
    version: 2,
    kind: "topology",
    date: machine.date,
    dialect: target.dialect,
    database: target.description,
    quick,
    machine,
    source: describeSource(root),
    targets: topologyTargets,
    warmUp: {
      inProcess: warmedUp,
      processes: { w3LikePasses: counts.warmupPasses, w4LikeRuns: counts.latencyWarmups },
    },
    wakeFloor: { ...wake, wakeUpsPerRun },
    topologies,
  };
  const paths = writeReport({ ...report, dialect: `${target.dialect}-topology` }, resultsDir);
  console.log(`JSON: ${paths.join("\n      ")}`);
  return 0;
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");

function busySince(before: number | null): number | null {
  const now = machineBusyMs();
  return now === null || before === null ? null : now - before;
}

/** The median, or null where any value is missing (no /proc). */
function medianOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((x): x is number => x !== null);
  return known.length === values.length && known.length > 0 ? Math.round(median(known)) : null;
}

function describePasses(passes: PassFigures[]): string {
  const mid = (pick: (p: PassFigures) => number | null | undefined) => {
    const values = passes.map(pick).filter((x): x is number => typeof x === "number");
    return values.length === passes.length ? String(Math.round(median(values))) : "?";
  };
  const workers = passes[0]?.cpuMs.workers.map((_, i) => mid((p) => p.cpuMs.workers[i])) ?? [];
  return `${mid((p) => p.startsMs)} / ${mid((p) => p.wallMs)} ms · server ${mid((p) => p.cpuMs.server)}, worker${workers.length > 1 ? "s" : ""} ${workers.join(" + ")}, bench client ${mid((p) => p.cpuMs.client)}`;
}

async function measureTopology(
  target: DatabaseTarget,
  workers: number,
  counts: TopologyCounts,
): Promise<{
  inProcess: InProcessFigures;
  machineCpu: MachineCpu;
  stepsPerSecond: number;
  passes: number[];
  passDetails: PassFigures[];
  latency: Summary;
  clientLatency: Summary;
}> {
  const { passes, warmupPasses, latencyRuns, latencyWarmups, inProcessLatencyWarmups } = counts;
  const db = target.fresh(`w6-topology-${workers}`);
  // Creates the schema (or file) once, before several processes race to migrate it.
  const observer = await Cairn.open({ db, workflows: [], sqlite: { synchronous: "FULL" } });
  const children: ChildProcess[] = [];
  let client: StartClient | undefined;
  let inProcess: Cairn | undefined;
  try {
    inProcess = await openEngine(target.fresh(`w6-in-process-${workers}`), w3Runs);
    const local = inProcess;
    const port = await freePort();
    const server = await startProcess(
      ["server", "--db", db, "--port", String(port), "--json"],
      children,
    );
    const base = (server.url as string | null) ?? `http://127.0.0.1:${port}`;
    for (let i = 0; i < workers; i++) {
      await startProcess(
        [
          "worker",
          workflowsFile,
          "--db",
          db,
          "--concurrency",
          String(w3Runs),
          "--no-supervise",
          "--json",
        ],
        children,
      );
    }
    const starter = new StartClient(base);
    client = starter;
    const start = (steps: number) => starter.start("bench-sequential", { steps });
    const waitCompleted = async (id: string): Promise<void> => {
      const until = performance.now() + 30_000;
      for (;;) {
        // The row alone (one query; `getRun` also reads the journal).
        const run = await observer.store.getRun(id as RunId);
        if (run?.status === "completed") return;
        if (run?.status === "failed" || run?.status === "cancelled") {
          throw new Error(`run ${id} ended ${run.status}`);
        }
        if (performance.now() > until) throw new Error(`run ${id} still ${run?.status} after 30 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    // W3-like: 200 runs of 10 steps started at once over HTTP, until all have completed.
    const topologyPass = async (): Promise<PassFigures> => {
      const cpuBefore = children.map((c) => processCpuMs(c.pid));
      const clientBefore = ownCpuMs();
      const machineBefore = machineBusyMs();
      const t0 = performance.now();
      const ids = await Promise.all(Array.from({ length: w3Runs }, () => start(w3Steps)));
      const startsMs = performance.now() - t0;
      // Runs the server started wait for a worker's admission outside `due` and `running`:
      // an empty queue ends the pass only once every run is seen completed, timed as of the
      // check that found the queue empty.
      let wallMs = 0;
      let unfinished = ids;
      // Checks 5 ms apart, then a millisecond apart once the last runs are stepping: the
      // spacing at the end is the figure's error (2.5 ms of a 200 ms pass on average).
      let busySeen = false;
      for (;;) {
        const stats = await observer.queueStats();
        const at = performance.now();
        const live = stats.due + stats.running;
        busySeen ||= live > tailRuns;
        if (live === 0) {
          const runs = await Promise.all(
            unfinished.map((id) => observer.store.getRun(id as RunId)),
          );
          const ended = runs.find((r) => r?.status === "failed" || r?.status === "cancelled");
          if (ended) throw new Error(`run ${ended.id} ended ${ended.status}`);
          unfinished = unfinished.filter((_, i) => runs[i]?.status !== "completed");
          if (unfinished.length === 0) {
            wallMs = at - t0;
            break;
          }
        }
        await new Promise((r) => setTimeout(r, busySeen && live <= tailRuns ? 1 : 5));
      }
      // children: the server first, then the workers.
      const [server = null, ...workerCpu] = children.map((c, i) => {
        const now = processCpuMs(c.pid);
        const before = cpuBefore[i] ?? null;
        return now === null || before === null ? null : now - before;
      });
      const cpuMs = { server, workers: workerCpu, client: round(ownCpuMs() - clientBefore, 0) };
      const machineMs = busySince(machineBefore);
      for (const id of ids) await waitCompleted(id);
      return {
        stepsPerSecond: round((w3Runs * w3Steps * 1000) / wallMs, 0),
        startsMs: round(startsMs, 0),
        wallMs: round(wallMs, 0),
        cpuMs,
        machineMs,
      };
    };
    // W4-like: a one-step run from the HTTP start until `result()` in another process returns
    // (woken by the store's announcement of the run's end).
    const topologyRun = async () => {
      await observer.handle(await start(1)).result();
    };

    for (let i = 0; i < warmupPasses; i++) await topologyPass();
    for (let i = 0; i < latencyWarmups; i++) await topologyRun();
    // The bench's warm-up compiled the in-process code; this engine's database is fresh.
    await throughputPass(local);
    for (let i = 0; i < inProcessLatencyWarmups; i++) await startLatencyRun(local);

    // Pass for pass, each side first every other time.
    const details: PassFigures[] = [];
    const localRates: number[] = [];
    const localMachineMs: (number | null)[] = [];
    const localPass = async () => {
      const machineBefore = machineBusyMs();
      localRates.push((await throughputPass(local)).stepsPerSecond);
      localMachineMs.push(busySince(machineBefore));
    };
    for (let pass = 0; pass < passes; pass++) {
      if (pass % 2 === 0) await localPass();
      details.push(await topologyPass());
      if (pass % 2 === 1) await localPass();
    }
    const samples: number[] = [];
    const localSamples: number[] = [];
    // The machine's busy CPU over each side's measured runs (a block's first ones excluded).
    const busy = { topology: 0 as number | null, local: 0 as number | null };
    const block = async (run: () => Promise<void>, into: number[], side: keyof typeof busy) => {
      for (let i = 0; i < latencyBlockWarmups; i++) await run();
      const machineBefore = machineBusyMs();
      for (let i = 0; i < latencyBlock; i++) {
        const t0 = performance.now();
        await run();
        into.push(performance.now() - t0);
      }
      const used = busySince(machineBefore);
      const sum = busy[side];
      busy[side] = sum === null || used === null ? null : sum + used;
    };
    for (let b = 0; b < latencyRuns / latencyBlock; b++) {
      if (b % 2 === 0) await block(() => startLatencyRun(local), localSamples, "local");
      await block(topologyRun, samples, "topology");
      if (b % 2 === 1) await block(() => startLatencyRun(local), localSamples, "local");
    }
    const perRun = (ms: number | null) => (ms === null ? null : round(ms / latencyRuns, 2));
    const machineCpu: MachineCpu = {
      w3PassMs: {
        topology: medianOrNull(details.map((d) => d.machineMs)),
        inProcess: medianOrNull(localMachineMs),
      },
      w4RunMs: { topology: perRun(busy.topology), inProcess: perRun(busy.local) },
    };

    // The same runs through the HTTP client an application uses: `result()` follows the
    // run on the server's event stream, which hears the end the database announces.
    const remote = Cairn.connect(base);
    const clientSamples: number[] = [];
    for (let i = 0; i < clientWarmups + latencyRuns; i++) {
      const t0 = performance.now();
      await (await remote.start("bench-sequential", { steps: 1 })).result();
      if (i >= clientWarmups) clientSamples.push(performance.now() - t0);
    }
    const rates = details.map((d) => d.stepsPerSecond);
    return {
      inProcess: {
        stepsPerSecond: median(localRates),
        passes: localRates,
        latency: roundSummary(summarize(localSamples)),
      },
      machineCpu,
      stepsPerSecond: median(rates),
      passes: rates,
      passDetails: details,
      latency: roundSummary(summarize(samples)),
      clientLatency: roundSummary(summarize(clientSamples)),
    };
  } finally {
    client?.close();
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(
      children.map((c) =>
        c.exitCode === null ? new Promise((r) => c.once("exit", r)) : Promise.resolve(),
      ),
    );
    await inProcess?.close();
    await observer.close();
  }
}

/** Spawns `cairn <args>` from source and waits for its one-line JSON startup summary. */
function startProcess(args: string[], children: ChildProcess[]): Promise<Record<string, unknown>> {
  // CAIRN_BENCH_CPU_PROF=<dir>: each child writes a V8 CPU profile there when it exits.
  const profileDir = process.env.CAIRN_BENCH_CPU_PROF;
  const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", cli, ...args], {
    cwd: root,
    env: { ...process.env, CAIRN_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const summary = JSON.parse(line) as Record<string, unknown>;
          if (summary.kind === undefined) continue;
          child.stdout?.off("data", onData);
          child.stdout?.resume(); // keep draining: a full pipe would block the process
          resolve(summary);
          return;
        } catch {
          // a partial line: wait for the rest
        }
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`cairn ${args[0]} exited with ${code}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
