import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const consumer = mkdtempSync(join(tmpdir(), "cairn-consumer-"));
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

describe("the npm package", () => {
  it("installs from a path and works through its exports, with type declarations", () => {
    execFileSync("npm", ["run", "build"], { cwd: root, stdio: "pipe" });
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", root], {
      cwd: consumer,
      stdio: "pipe",
    });
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
    execFileSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", consumer],
      {
        cwd: consumer,
        stdio: "pipe",
      },
    );
    const out = execFileSync(
      process.execPath,
      [join(root, "node_modules/tsx/dist/cli.mjs"), "main.ts"],
      {
        cwd: consumer,
        encoding: "utf8",
      },
    );
    expect(JSON.parse(out.trim())).toEqual({
      doubled: 42,
      cairn: "function",
      error: "NON_RETRYABLE",
    });
    // The web UI ships inside the package, built.
    expect(existsSync(join(consumer, "node_modules/cairnjs/dist/ui/index.html"))).toBe(true);
    // The build includes the web UI's (Vite) now: slower on a loaded two-core machine.
  }, 150_000);
});
