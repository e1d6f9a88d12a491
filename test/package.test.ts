import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildPackage,
  buildTimeoutMs,
  cairnBin,
  installGeneratedProject,
  installLocalPackage,
  node,
  nodeResult,
  root,
  scratch,
  stepTimeoutMs,
  tsc,
  tsxCli,
} from "./support/built-package.ts";

// Built once for the whole file; every test installs that build into a project of its own.
beforeAll(buildPackage, buildTimeoutMs);
const folders: { remove: () => void }[] = [];
afterAll(() => {
  for (const f of folders) f.remove();
});
function project(prefix: string): string {
  const dir = scratch(prefix);
  folders.push(dir);
  return dir.path;
}

describe("the npm package", () => {
  it(
    "installs from a path and works through its exports, with type declarations",
    () => {
      const consumer = project("cairn-consumer-");
      writeFileSync(
        join(consumer, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      installLocalPackage(consumer);
      writeFileSync(
        join(consumer, "main.ts"),
        `import { Cairn, defineWorkflow, NonRetryableError } from "cairnjs";
import { createTestCairn } from "cairnjs/testing";
const wf = defineWorkflow({ name: "x" }, async (ctx, n: number) => ctx.step("a", () => n * 2));
const t = await createTestCairn({ workflows: [wf] });
const doubled: number = await (await t.cairn.start(wf, 21)).result();
console.log(JSON.stringify({ doubled, cairn: typeof Cairn.open, error: new NonRetryableError("x").code }));
await t.close();
`,
      );
      writeFileSync(
        join(consumer, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "NodeNext",
            target: "ES2022",
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: [],
          },
          files: ["main.ts"],
        }),
      );
      // Types resolve through the package's `exports` and a type error would fail here.
      node([tsc, "-p", consumer], consumer);
      const out = node([tsxCli, "main.ts"], consumer);
      expect(JSON.parse(out.trim())).toEqual({
        doubled: 42,
        cairn: "function",
        error: "NON_RETRYABLE",
      });
      // The web UI ships inside the package, built.
      expect(existsSync(join(consumer, "node_modules/cairnjs/dist/ui/index.html"))).toBe(true);
    },
    stepTimeoutMs * 2,
  );

  it(
    "cairn init scaffolds a project whose own test passes",
    async () => {
      const parent = project("cairn-init-");
      const out = node([cairnBin, "init", "my-app", "--no-install"], parent);
      expect(out).toContain("cd my-app");
      expect(out).toContain("npm run dev");
      expect(out).toContain("npm test");
      const app = join(parent, "my-app");
      const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
      expect(manifest).toMatchObject({
        name: "my-app",
        type: "module",
        scripts: { dev: "cairn dev workflows", test: "vitest run" },
        dependencies: { cairnjs: expect.stringMatching(/^\^\d+\.\d+\.\d+/) },
      });
      // A second init into the same folder refuses and names what is in the way.
      const again = await nodeResult([cairnBin, "init", "my-app", "--no-install"], parent);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain("already has package.json");
      const tools = installGeneratedProject(app);
      expect(Object.keys(tools).sort()).toEqual(["@types/node", "typescript", "vitest"]);
      const tested = node([join(app, "node_modules/vitest/vitest.mjs"), "run"], app, { CI: "1" });
      expect(tested).toMatch(/1 passed/);
      node([tsc, "-p", app], app);
    },
    stepTimeoutMs * 3,
  );

  it(
    "ships the store conformance suite as cairnjs/testing/conformance, vitest only there",
    () => {
      const consumer = project("cairn-conformance-");
      writeFileSync(
        join(consumer, "package.json"),
        JSON.stringify({ name: "store-author", private: true, type: "module" }),
      );
      installLocalPackage(consumer);
      // The main testing entry loads without vitest installed.
      const loaded = node(
        [
          "--input-type=module",
          "-e",
          `const t = await import("cairnjs/testing"); console.log(typeof t.createTestCairn);`,
        ],
        consumer,
      );
      expect(loaded.trim()).toBe("function");
      // A store author runs the suite with their own vitest (here: this repository's).
      symlinkSync(join(root, "node_modules/vitest"), join(consumer, "node_modules/vitest"), "dir");
      writeFileSync(
        join(consumer, "store.test.ts"),
        `import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cairn } from "cairnjs";
import { runStoreConformance } from "cairnjs/testing/conformance";

runStoreConformance({
  name: "bundled sqlite",
  newStore: async () => {
    const dir = mkdtempSync(join(tmpdir(), "conformance-"));
    return (await Cairn.open({ db: \`sqlite:\${join(dir, "store.db")}\` })).store;
  },
});
`,
      );
      const out = node([join(consumer, "node_modules/vitest/vitest.mjs"), "run"], consumer, {
        CI: "1",
      });
      expect(out).toMatch(/Tests\s+\d{2,} passed/);
      expect(out).not.toMatch(/failed/);
    },
    stepTimeoutMs * 2,
  );

  it(
    "serves CommonJS projects: require() of every export, and cairn dev of .ts workflows",
    async () => {
      const cjs = project("cairn-cjs-");
      writeFileSync(
        join(cjs, "package.json"),
        JSON.stringify({ name: "cjs-consumer", private: true }),
      );
      installLocalPackage(cjs);
      writeFileSync(
        join(cjs, "main.cjs"),
        `const { defineWorkflow } = require("cairnjs");
const { createTestCairn } = require("cairnjs/testing");
const { RemoteCairn } = require("cairnjs/client");
const wf = defineWorkflow({ name: "x" }, async (ctx, n) => ctx.step("a", () => n + 1));
(async () => {
  const t = await createTestCairn({ workflows: [wf] });
  const out = await (await t.cairn.start(wf, 1)).result();
  console.log(JSON.stringify({ out, client: typeof RemoteCairn }));
  await t.close();
})();
`,
      );
      expect(JSON.parse(node(["main.cjs"], cjs).trim())).toEqual({ out: 2, client: "function" });

      mkdirSync(join(cjs, "workflows"));
      writeFileSync(
        join(cjs, "workflows/hello.ts"),
        `import { defineWorkflow } from "cairnjs";
export const hello = defineWorkflow({ name: "hello" }, async (ctx) => ctx.step("hi", () => "hi"));
`,
      );
      const summary = await devSummary(cjs, [
        "dev",
        "workflows",
        "--port",
        "0",
        "--json",
        "--db",
        `sqlite:${join(cjs, "dev.db")}`,
      ]);
      expect(summary.workflows).toEqual([{ name: "hello", file: join("workflows", "hello.ts") }]);
    },
    stepTimeoutMs * 2,
  );
});

/** Starts the built `cairn` in `cwd`, returns its `--json` startup summary, and stops it. */
function devSummary(cwd: string, args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(
    process.execPath,
    [join(cwd, "node_modules/cairnjs/dist/cli/main.js"), ...args],
    {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolvePromise, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        child.kill("SIGTERM");
        resolvePromise(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.on("close", (code) => reject(new Error(`cairn exited ${code}:\n${out}\n${err}`)));
  });
}
