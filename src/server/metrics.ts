import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { EngineEvent } from "../core/engine-event.ts";
import type { Cairn } from "../sdk/cairn.ts";
import type { ServerLogger } from "./options.ts";

/** Prometheus metrics of one app: its own registry, so two apps in a process never collide. */
export interface Metrics {
  readonly registry: Registry;
  /** Feeds an engine event (from `cairn.subscribe`) into the counters and histograms. */
  observe(event: EngineEvent): void;
  /** The exposition text; reads queue figures from the store at scrape time. */
  render(): Promise<string>;
  /** Stops sampling the event-loop delay. */
  close(): void;
}

const terminal = new Set(["completed", "failed", "cancelled"]);

/**
 * Builds the metric set the operators dashboard needs. Counters only see what this process's
 * engine does (engine events are local); queue figures come from the store, so they cover
 * every process sharing the database.
 */
export function createMetrics(cairn: Cairn, logger: ServerLogger): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runsStarted = new Counter({
    name: "cairn_runs_started_total",
    help: "Runs created by this process (starts and event-triggered starts).",
    labelNames: ["workflow"],
    registers: [registry],
  });
  const runsFinished = new Counter({
    name: "cairn_runs_finished_total",
    help: "Runs that reached a final status in this process.",
    labelNames: ["workflow", "status"],
    registers: [registry],
  });
  const poisonRuns = new Counter({
    name: "cairn_poison_runs_total",
    help: "Runs this process quarantined: workers kept dying running them without progress.",
    labelNames: ["workflow"],
    registers: [registry],
  });
  const runsPurged = new Counter({
    name: "cairn_runs_purged_total",
    help: "Finished runs this process deleted (retention passes and purges), with their journals.",
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: "cairn_step_duration_seconds",
    help: "Duration of step attempts executed by this process.",
    labelNames: ["workflow", "status"],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: "cairn_queue_depth",
    help: "Runs due now that no worker holds (all processes).",
    registers: [registry],
  });
  const oldestAge = new Gauge({
    name: "cairn_queue_oldest_age_seconds",
    help: "How long the oldest due run has waited to be claimed.",
    registers: [registry],
  });
  const running = new Gauge({
    name: "cairn_runs_running",
    help: "Runs leased by a worker now (all processes).",
    registers: [registry],
  });
  const waiting = new Gauge({
    name: "cairn_runs_waiting",
    help: "Runs suspended on a sleep, event, signal or child (all processes).",
    registers: [registry],
  });
  const takeovers = new Counter({
    name: "cairn_lease_takeovers_total",
    help: "Runs this process claimed from an expired lease (a crashed or stalled worker).",
    registers: [registry],
  });
  const claimLatency = new Histogram({
    name: "cairn_claim_latency_seconds",
    help: "Time a claim query took in this process.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });

  // Sampled every 10 ms; read and reset at each scrape, so a figure covers the time since the
  // previous scrape. An engine duty that holds the loop shows here as a long delay.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new Gauge({
    name: "cairn_event_loop_delay_seconds",
    help: "Event-loop delay of this process since the previous scrape (quantile 1 = max).",
    labelNames: ["quantile"],
    registers: [registry],
    collect() {
      // A histogram with no sample yet reports NaN/0; report 0 then.
      const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
      this.set({ quantile: "0.5" }, seconds(loopDelay.percentile(50)));
      this.set({ quantile: "0.99" }, seconds(loopDelay.percentile(99)));
      this.set({ quantile: "1" }, seconds(loopDelay.max));
      loopDelay.reset();
    },
  });

  return {
    registry,
    observe(event) {
      switch (event.type) {
        case "run":
          if (event.reason === "created") runsStarted.inc({ workflow: event.workflow });
          else if (terminal.has(event.status)) {
            runsFinished.inc({ workflow: event.workflow, status: event.status });
            if (event.error?.name === "PoisonRunError")
              poisonRuns.inc({ workflow: event.workflow });
          }
          return;
        case "step":
          if (event.status !== "started" && event.durationMs !== undefined) {
            stepDuration.observe(
              { workflow: event.workflow, status: event.status },
              event.durationMs / 1000,
            );
          }
          return;
        case "purge":
          runsPurged.inc(event.runs);
          return;
        case "claim":
          if (event.takeovers > 0) takeovers.inc(event.takeovers);
          claimLatency.observe(event.latencyMs / 1000);
          return;
      }
    },
    async render() {
      try {
        const stats = await cairn.queueStats();
        queueDepth.set(stats.due);
        running.set(stats.running);
        waiting.set(stats.waiting);
        const now = cairn.clock.now();
        oldestAge.set(
          stats.oldestDueAt === null ? 0 : Math.max(0, (now - stats.oldestDueAt) / 1000),
        );
      } catch (error) {
        // The process metrics are still worth a scrape; stale queue figures are not.
        logger.warn({ err: error }, "queue statistics unavailable for /metrics");
        for (const gauge of [queueDepth, running, waiting, oldestAge]) gauge.set(Number.NaN);
      }
      return registry.metrics();
    },
    close() {
      loopDelay.disable();
    },
  };
}
