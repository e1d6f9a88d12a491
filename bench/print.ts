import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Conditions, isBusy } from "./machine.ts";
import { type BenchReport, rows } from "./report.ts";

/** The human-readable report: header, machine, the table, warnings. */
export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(
    `Cairn bench · ${report.dialect}${report.quick ? " · --quick (smoke test, not a measurement)" : ""}`,
  );
  lines.push(`  database  ${report.database}`);
  lines.push(
    `  machine   ${m.cpuModel} · ${m.cores} cores · ${m.totalMemoryGB} GB · Node ${m.node} · ${m.platform} ${m.release}`,
  );
  lines.push(`  date      ${m.date}`);
  const { commit, dirty } = report.source;
  lines.push(
    `  engine    ${commit ? `commit ${commit.slice(0, 12)}` : "not a git checkout"}${dirty ? " + uncommitted changes in src/" : ""}`,
  );
  const { start, end, workloads } = report.conditions;
  const cpu = (c: Conditions) =>
    `CPU availability ${c.cpuAvailability.toFixed(2)}, 1-min load ${c.loadAverage1m.toFixed(2)}`;
  lines.push(`  load      ${cpu(start)}${end ? ` → ${cpu(end)}` : ""}`);
  if (start.commitFloor) {
    const f = start.commitFloor;
    lines.push(
      `  floor     ${f.probe}: ${f.commitMs.toFixed(3)} ms p50, ${f.commitP90Ms.toFixed(3)} ms p90 (n=${f.samples}); W1's floor is 40 of them, W4's 2, each re-measured before its workload`,
    );
  }
  if (report.warmUp) {
    lines.push(
      `  warm-up   ${report.warmUp.rounds} rounds of W3's, W1's, W2's and W4's shapes on a throwaway database (${(report.warmUp.ms / 1000).toFixed(1)} s) before the first workload: the figures are of compiled code, as in a server that has run for a while`,
    );
  }
  if (Object.values(workloads).some((c) => c && isBusy(c, m.cores))) {
    lines.push(
      "  WARNING   other processes competed for the CPU; figures marked BUSY understate the engine",
    );
  }
  lines.push("");
  const table = rows(report);
  const header = ["", "workload", "result", "target", "", "best peer (spec)"];
  const cells = table.map((r) => [r.id, r.name, r.result, r.target, r.verdict, r.peer]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  lines.push(line(header));
  lines.push(widths.map((w) => "─".repeat(w)).join("  "));
  for (const [i, r] of table.entries()) {
    lines.push(line(cells[i] ?? []));
    for (const d of r.details) lines.push(`${" ".repeat((widths[0] ?? 0) + 2)}· ${d}`);
  }
  const passed = table.filter((r) => r.verdict === "PASS").length;
  lines.push("");
  lines.push(`${passed}/${table.length} targets met.`);
  if (report.warnings.length > 0) {
    lines.push("");
    lines.push("Process warnings during the bench (each printed once above, counted here):");
    for (const w of report.warnings) lines.push(`  ${w.count}× ${w.warning}`);
  }
  return lines.join("\n");
}

/**
 * Writes `<ISO date>-<dialect>.json` and `latest-<dialect>.json`; returns both paths. A
 * --quick smoke test goes to `…-<dialect>-quick.json` so it never replaces a measurement.
 */
export function writeReport(
  report: Pick<BenchReport, "date" | "quick"> & { dialect: string },
  directory: string,
): string[] {
  mkdirSync(directory, { recursive: true });
  // An ISO timestamp with the colons a file name cannot always hold replaced.
  const stamp = report.date.replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
  const kind = `${report.dialect}${report.quick ? "-quick" : ""}`;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const paths = [join(directory, `${stamp}-${kind}.json`), join(directory, `latest-${kind}.json`)];
  for (const path of paths) writeFileSync(path, json);
  return paths;
}
