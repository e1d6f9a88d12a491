import { describe, expect, it } from "vitest";
import { type EngineColumn, formatTable, ratios } from "../bench/peers/side-by-side-table.ts";

const figures = (w1: number, w3: number) => ({
  w1MedianMs: w1,
  w2MedianMs: 10,
  w3StepsPerSecond: w3,
  w4P50Ms: 2,
  w4P99Ms: 8,
});

const columns: EngineColumn[] = [
  { label: "Cairn · PostgreSQL", name: "Cairn PG", kind: "cairn", figures: figures(60, 6000) },
  { label: "DBOS 5.3.0", name: "DBOS", kind: "peer", figures: figures(80, 900) },
  { label: "Restate 1.7.12", name: "Restate", kind: "peer", figures: figures(120, 3000) },
  { label: "graphile-worker 0.17.3", name: "graphile-worker", kind: "peer", figures: null },
];

describe("npm run bench:peers table", () => {
  it("divides Cairn by the fastest peer for times and by the highest throughput for W3", () => {
    const byMetric = Object.fromEntries(ratios(columns).map((r) => [r.metric, r]));
    // W1: the best peer is the lower time (DBOS 80 ms); 60 / 80 < 1, Cairn ahead.
    expect(byMetric.w1MedianMs).toMatchObject({ bestPeer: "DBOS 5.3.0", ratio: 0.75 });
    expect(byMetric.w1MedianMs?.cairnAhead).toBe(true);
    // W3: the best peer is the higher rate (Restate 3,000/s); 6,000 / 3,000 > 1, Cairn ahead.
    expect(byMetric.w3StepsPerSecond).toMatchObject({ bestPeer: "Restate 1.7.12", ratio: 2 });
    expect(byMetric.w3StepsPerSecond?.cairnAhead).toBe(true);
  });

  it("prints the floor for W1 and W4's p50 only, and 'error' for an engine without figures", () => {
    const lines = formatTable(columns, 0.5).split("\n");
    const w1 = lines.find((l) => l.startsWith("| W1"));
    const w2 = lines.find((l) => l.startsWith("| W2"));
    expect(w1).toContain("20.0 ms (40 × 0.500)");
    expect(w1).toContain("**80.0 ms**");
    expect(w1).toContain("0.75 (DBOS)");
    expect(w1).toContain("| error |");
    expect(w2).toContain("| — |");
    expect(lines[0]).toContain("Cairn PG ÷ best peer");
  });
});
