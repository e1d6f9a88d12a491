import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const consumer = mkdtempSync(join(tmpdir(), "cairn-consumer-"));
// The unpacked tarball sits under the repo's node_modules, so its dependencies resolve to
// the ones already installed there: the install needs no registry and builds nothing.
mkdirSync(join(root, "node_modules"), { recursive: true });
const packed = mkdtempSync(join(root, "node_modules", ".cairn-pack-"));
afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
  rmSync(packed, { recursive: true, force: true });
});
/** Bounded so a hung npm fails the test with its output instead of hanging it. */
const run = (file: string, args: string[], cwd: string) =>
  execFileSync(file, args, { cwd, encoding: "utf8", stdio: "pipe", timeout: 120_000 });

describe("the npm package", () => {
  it("installs from its packed tarball and works through its exports, with type declarations", () => {
    // Built once; `--ignore-scripts` keeps pack and install from running `prepare` again.
    run("npm", ["run", "build"], root);
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", packed], root);
    const tarball = readdirSync(packed).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack left no tarball in ${packed}`);
    run("tar", ["xzf", tarball], packed);
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    run(
      "npm",
      [
        "install",
        "--offline",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        join(packed, "package"),
      ],
      consumer,
    );
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
    run(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", consumer],
      consumer,
    );
    const out = run(
      process.execPath,
      [join(root, "node_modules/tsx/dist/cli.mjs"), "main.ts"],
      consumer,
    );
    expect(JSON.parse(out.trim())).toEqual({
      doubled: 42,
      cairn: "function",
      error: "NON_RETRYABLE",
    });
  }, 180_000);
});
