/**
 * `npm run bench:cli`: how long the built `cairn` takes to start and answer, median and p90
 * of 15 runs each, beside a bare `node -e 0` for the machine's floor. Needs `npm run build`.
 * Target (issue 15): `cairn runs list` ≤ 300 ms.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median, percentile } from "./stats.ts";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "dist/cli/main.js");
if (!existsSync(bin)) {
  process.stderr.write("dist/cli/main.js is missing: run npm run build first.\n");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "cairn-cli-bench-"));
const db = `sqlite:${join(dir, "bench.db")}`;
execFileSync(process.execPath, [bin, "migrate", "--db", db], { stdio: "ignore" });

const cases: [string, string[]][] = [
  ["node -e 0 (floor)", ["-e", "0"]],
  ["cairn --version", [bin, "--version"]],
  ["cairn runs list", [bin, "runs", "list", "--db", db]],
];
const runs = Number(process.env.CAIRN_BENCH_CLI_RUNS ?? 15);
try {
  for (const [name, args] of cases) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      const result = spawnSync(process.execPath, args, { cwd: dir, stdio: "ignore" });
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}`);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const p50 = median(times);
    const p90 = percentile(
      [...times].sort((a, b) => a - b),
      90,
    );
    process.stdout.write(
      `${name.padEnd(20)} p50 ${p50.toFixed(0).padStart(5)} ms   p90 ${p90.toFixed(0).padStart(5)} ms\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
