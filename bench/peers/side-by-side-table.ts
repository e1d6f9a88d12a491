/**
 * The one table `npm run bench:peers` prints: per workload, every engine's figure, the
 * PostgreSQL commit floor, and Cairn ÷ the best peer. Markdown, so it can go into a README as
 * it is printed.
 */
import type { Figures } from "./harness.ts";

/** One engine's figures in the run, or why it has none. */
export interface EngineColumn {
  /** Column header, e.g. "Cairn · PostgreSQL" or "DBOS 5.3.0". */
  label: string;
  /** Short name for the ratio cells, e.g. "DBOS". */
  name: string;
  /** Cairn's stores are compared against the peers; the peers against each other. */
  kind: "cairn" | "peer";
  figures: Figures | null;
  error?: string;
}

interface Metric {
  key: keyof Figures;
  label: string;
  unit: "ms" | "steps/s";
  /** Durable commits the workload must wait for at least, one after another (floor.ts). */
  floorCommits?: number;
}

const metrics: Metric[] = [
  { key: "w1MedianMs", label: "W1 40 sequential steps, median", unit: "ms", floorCommits: 40 },
  { key: "w2MedianMs", label: "W2 40 parallel steps, median", unit: "ms" },
  { key: "w3StepsPerSecond", label: "W3 200 runs × 10 steps", unit: "steps/s" },
  { key: "w4P50Ms", label: "W4 start → result, p50", unit: "ms", floorCommits: 2 },
  { key: "w4P99Ms", label: "W4 start → result, p99", unit: "ms" },
];

const lowerIsBetter = (m: Metric) => m.unit === "ms";

function formatValue(value: number, unit: Metric["unit"]): string {
  if (unit === "steps/s") return `${Math.round(value).toLocaleString("en-US")} steps/s`;
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export interface Ratio {
  metric: keyof Figures;
  cairn: string;
  bestPeer: string;
  /** Cairn's figure divided by the best peer's. */
  ratio: number;
  /** Whether Cairn is ahead: ratio < 1 for times, > 1 for throughput. */
  cairnAhead: boolean;
}

/** The best peer for a metric: the lowest time or the highest throughput. */
function bestPeer(columns: readonly EngineColumn[], m: Metric) {
  let best: { label: string; name: string; value: number } | undefined;
  for (const c of columns) {
    if (c.kind !== "peer" || c.figures === null) continue;
    const value = c.figures[m.key];
    if (!Number.isFinite(value)) continue;
    const better =
      best === undefined || (lowerIsBetter(m) ? value < best.value : value > best.value);
    if (better) best = { label: c.label, name: c.name, value };
  }
  return best;
}

/** Every Cairn column ÷ the best peer, per metric (for the JSON and the table). */
export function ratios(columns: readonly EngineColumn[]): Ratio[] {
  const out: Ratio[] = [];
  for (const m of metrics) {
    const best = bestPeer(columns, m);
    if (best === undefined) continue;
    for (const c of columns) {
      if (c.kind !== "cairn" || c.figures === null) continue;
      const ratio = c.figures[m.key] / best.value;
      out.push({
        metric: m.key,
        cairn: c.label,
        bestPeer: best.label,
        ratio: Math.round(ratio * 100) / 100,
        cairnAhead: lowerIsBetter(m) ? ratio < 1 : ratio > 1,
      });
    }
  }
  return out;
}

/** Markdown table; `commitMs` is one durable PostgreSQL commit measured in the same run. */
export function formatTable(columns: readonly EngineColumn[], commitMs: number | null): string {
  const cairns = columns.filter((c) => c.kind === "cairn");
  const header = [
    "workload",
    ...columns.map((c) => c.label),
    "PostgreSQL commit floor",
    ...cairns.map((c) => `${c.name} ÷ best peer`),
  ];
  const lines = [row(header), row(header.map(() => "---"))];
  for (const m of metrics) {
    const best = bestPeer(columns, m);
    const cells = columns.map((c) => {
      if (c.figures === null) return "error";
      const text = formatValue(c.figures[m.key], m.unit);
      return c.kind === "peer" && best?.label === c.label ? `**${text}**` : text;
    });
    const floor =
      m.floorCommits !== undefined && commitMs !== null
        ? `${formatValue(m.floorCommits * commitMs, "ms")} (${m.floorCommits} × ${commitMs.toFixed(3)})`
        : "—";
    const ratioCells = cairns.map((c) => {
      if (c.figures === null || best === undefined) return "—";
      const r = c.figures[m.key] / best.value;
      return `${r.toFixed(2)} (${best.name})`;
    });
    const direction = lowerIsBetter(m) ? "ms, lower is better" : "higher is better";
    lines.push(row([`${m.label} (${direction})`, ...cells, floor, ...ratioCells]));
  }
  return lines.join("\n");
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

export const ratioLegend =
  "Cairn ÷ best peer: for times (ms) below 1 means Cairn is faster; for W3 (steps/s) above 1 " +
  "means Cairn is faster. The best peer's figure is in bold. The floor is the durable commits a " +
  "run must wait for one after another (W1: 40, W4: 2) × one PostgreSQL commit measured in " +
  "the same run, for the engines that commit to PostgreSQL; " +
  "Restate writes to its own log and Cairn's SQLite store to its own file. W2, W3 and W4's " +
  "p99 have no floor.";
