/**
 * `npm run bench:flows`: flows on the engine, on a fresh SQLite file (full durability) or
 * `--db postgres://…`.
 *   F1  a 40-step sequential flow of `action` steps vs the same code workflow (W1's shape)
 *   F2  script step overhead over a bare interpreter start (Python, Bash, JavaScript and
 *       TypeScript, both against a bare `node`)
 *   F3  a 1,000-item forEach of action steps, parallelism 50 (target ≥ 3,000 steps/s on SQLite)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { interpreterFor } from "../src/worker/script/interpreters.ts";
import { runScript } from "../src/worker/script/run-script.ts";
import { median } from "./stats.ts";

const { values } = parseArgs({ options: { db: { type: "string" }, quick: { type: "boolean" } } });
const repeats = values.quick ? 5 : 20;
const dir = mkdtempSync(join(tmpdir(), "cairn-bench-flows-"));
const db = values.db ?? `sqlite:${join(dir, "flows.db")}`;

const sequential = defineWorkflow({ name: "seq-40-code" }, async (ctx) => {
  let n = 0;
  for (let i = 0; i < 40; i++) n = await ctx.step(`s${i}`, () => n + 1);
  return n;
});

const flow40 = [
  "name: seq-40-flow",
  "steps:",
  ...Array.from({ length: 40 }, (_, i) =>
    [
      `  - id: s${i}`,
      "    action: inc",
      `    with: { n: ${i === 0 ? 0 : `"=steps.s${i - 1}"`} }`,
    ].join("\n"),
  ),
  "output: =steps.s39",
].join("\n");

const fanOut = (items: number, parallelism: number) => `
name: foreach-${items}
steps:
  - id: each
    forEach:
      items: "=[1..${items}]"
      parallelism: ${parallelism}
      steps:
        - id: work
          action: inc
          with: { n: "=item" }
output: "=$count(steps.each)"
`;

async function timeRuns(cairn: Cairn, name: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count + 2; i++) {
    const start = performance.now();
    await (await cairn.start(name, {})).result();
    if (i >= 2) times.push(performance.now() - start); // two warm-ups
  }
  return times;
}

/** A bare interpreter start, spawned like the runner spawns (async, piped), to its close. */
function spawnMs(cmd: string, args: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.on("error", reject);
    child.on("close", () => resolve(performance.now() - start));
  });
}

/** The interpreter doing nothing: the floor a script step's start is compared with. */
const bareArgs = {
  python: ["-c", "pass"],
  bash: ["-c", ":"],
  javascript: ["-e", ""],
  typescript: ["-e", ""],
};

const trivialScript = {
  python: "def main():\n    return 1\n",
  bash: "echo 1",
  javascript: "export default () => 1;\n",
  typescript: "export default (): number => 1;\n",
};

async function main(): Promise<void> {
  const cairn = await Cairn.open({
    db,
    workflows: [sequential],
    actions: { inc: ({ n }) => Number(n) + 1 },
  });
  try {
    await cairn.worker({ concurrency: 100 });
    await cairn.flows.deploy(flow40);
    const items = values.quick ? 200 : 1000;
    await cairn.flows.deploy(fanOut(items, 50));

    const code = median(await timeRuns(cairn, "seq-40-code", repeats));
    const flow = median(await timeRuns(cairn, "seq-40-flow", repeats));
    console.log(
      `F1 40 sequential steps (median of ${repeats}): code workflow ${code.toFixed(1)} ms, flow of actions ${flow.toFixed(1)} ms (x${(flow / code).toFixed(2)})`,
    );

    for (const lang of ["python", "bash", "javascript", "typescript"] as const) {
      const exe = interpreterFor(lang) as string;
      const bareTimes: number[] = [];
      for (let i = 0; i < repeats; i++) {
        bareTimes.push(await spawnMs(exe, bareArgs[lang]));
      }
      const bare = median(bareTimes);
      const viaRunner: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const start = performance.now();
        await runScript({ lang, source: trivialScript[lang], input: {} });
        viaRunner.push(performance.now() - start);
      }
      const runner = median(viaRunner);
      console.log(
        `F2 ${lang} script step: ${runner.toFixed(1)} ms vs bare interpreter start ${bare.toFixed(1)} ms (overhead ${(runner - bare).toFixed(1)} ms)`,
      );
    }

    const start = performance.now();
    const counted = await (await cairn.start(`foreach-${items}`, {})).result();
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `F3 forEach of ${counted} action steps, parallelism 50: ${(seconds * 1000).toFixed(0)} ms, ${(items / seconds).toFixed(0)} steps/s (target ≥ 3000 on SQLite)`,
    );
  } finally {
    await cairn.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
