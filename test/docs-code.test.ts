import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "cairn-docs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** README.md and every guide page. */
function documents(): string[] {
  const guide = join(root, "docs/guide");
  const pages = existsSync(guide)
    ? readdirSync(guide)
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => join("docs/guide", f))
    : [];
  return ["README.md", ...pages];
}

interface Block {
  code: string;
  runnable: boolean;
  line: number;
}

/** The ```ts blocks of a Markdown file; ```ts runnable marks those that are also executed. */
function tsBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```ts( runnable)?\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    const line = markdown.slice(0, match.index).split("\n").length;
    blocks.push({ code: match[2] as string, runnable: match[1] !== undefined, line });
  }
  return blocks;
}

const paths = {
  cairnjs: [join(root, "src/index.ts")],
  "cairnjs/testing": [join(root, "src/testing/index.ts")],
  "cairnjs/testing/conformance": [join(root, "src/testing/conformance.ts")],
  "cairnjs/client": [join(root, "src/client/index.ts")],
};

function fileName(doc: string): string {
  return doc.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
}

describe("documentation code", () => {
  const docs = documents().map((doc) => ({
    doc,
    blocks: tsBlocks(readFileSync(join(root, doc), "utf8")),
  }));

  it("every ```ts block of README.md and docs/guide type-checks under strict", () => {
    // Each block is a module of its own, so every example shows the imports it needs.
    const files: string[] = [];
    for (const { doc, blocks } of docs) {
      for (const block of blocks) {
        const file = join(work, `${fileName(doc)}-line-${block.line}.ts`);
        writeFileSync(file, `${block.code}\nexport {};\n`);
        files.push(file);
      }
    }
    expect(files.length).toBeGreaterThan(0);
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
          paths,
        },
        files: [...files, join(root, "test/docs/doc-globals.d.ts")],
      }),
    );
    // The temp folder is no ESM package: top-level await needs .mts semantics, so say ESM.
    writeFileSync(join(work, "package.json"), '{ "type": "module" }');
    try {
      execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", work], {
        encoding: "utf8",
        stdio: "pipe",
        timeout: 120_000,
      });
    } catch (error) {
      const out = (error as { stdout?: string }).stdout ?? String(error);
      expect.fail(`the documentation's TypeScript does not compile:\n${out}`);
    }
  }, 150_000);

  const runnable = docs.flatMap(({ doc, blocks }) =>
    blocks.filter((b) => b.runnable).map((b) => ({ doc, ...b })),
  );
  it.each(runnable.map((b) => [`${b.doc}:${b.line}`, b] as const))(
    "the runnable block %s runs",
    (_name, block) => {
      const dir = mkdtempSync(join(work, "run-"));
      writeFileSync(join(dir, "package.json"), '{ "type": "module" }');
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { module: "NodeNext", paths } }),
      );
      writeFileSync(join(dir, "example.ts"), block.code);
      execFileSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), "example.ts"], {
        cwd: dir,
        stdio: "pipe",
        timeout: 60_000,
      });
    },
    90_000,
  );
});
