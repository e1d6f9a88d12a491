// Runs vitest projects side by side, one vitest process each: `node
// scripts/test-side-by-side.mjs ui faults`. The browser tests and the PostgreSQL fault
// tests each run one file at a time and spend most of their time waiting (for Chromium,
// for restarts, cuts and leases), so on two cores the pair takes about as long as the
// fault tests alone. Every output line carries its project's name; the exit code is the
// first non-zero one, after every project has finished.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const projects = process.argv.slice(2);
if (projects.length === 0) {
  console.error("usage: node scripts/test-side-by-side.mjs <project> [<project> …]");
  process.exit(2);
}
const vitest = join(import.meta.dirname, "../node_modules/vitest/vitest.mjs");
const width = Math.max(...projects.map((p) => p.length));

function forward(stream, to, label) {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) =>
    to.write(`${label} ${line}\n`),
  );
}

const started = performance.now();
const children = projects.map((project) => {
  const label = `[${project.padEnd(width)}]`;
  const child = spawn(process.execPath, [vitest, "run", "--project", project], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  forward(child.stdout, process.stdout, label);
  forward(child.stderr, process.stderr, label);
  const exited = new Promise((resolve) => {
    child.on("error", (error) => {
      console.error(`${label} could not start vitest: ${error.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      const outcome = code === 0 ? "passed" : `failed (${signal ?? `exit code ${code}`})`;
      console.log(`${label} ${outcome} after ${seconds} s`);
      resolve(code ?? 1);
    });
  });
  return { child, exited };
});

// Ctrl-C or a CI timeout stops every project, not only this process.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const { child } of children) child.kill(signal);
  });
}

const codes = await Promise.all(children.map((c) => c.exited));
process.exitCode = codes.find((code) => code !== 0) ?? 0;
