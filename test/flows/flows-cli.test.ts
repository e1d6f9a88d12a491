import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Cairn } from "../../src/index.ts";
import { cli, tempDir } from "../cli/cli.ts";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const dir = tempDir();
const db = ["--db", dir.db];
afterAll(() => dir.remove());

const good = join(dir.path, "etl.flow.yaml");
mkdirSync(join(dir.path, "scripts"), { recursive: true });
writeFileSync(join(dir.path, "scripts", "extract.py"), "def main(n):\n    return list(range(n))\n");
writeFileSync(
  good,
  `name: etl
steps:
  - id: extract
    script: { lang: python, file: scripts/extract.py }
    with: { n: "=input.n" }
  - id: count
    script: { lang: bash, source: 'echo "$CAIRN_ARG_ROWS" | wc -c' }
    with: { rows: "=steps.extract" }
output: "=steps.extract"
`,
);
const bad = join(dir.path, "bad.flow.yaml");
writeFileSync(
  bad,
  `name: bad
steps:
  - id: a
    needs: [lod]
    script: { lang: ruby, source: x }
  - id: b
    needs: [c]
    sleep: 1s
  - id: c
    needs: [b]
    sleep: 1s
`,
);

describe("cairn flows", () => {
  it("validate: ok for a good file, exit 2 listing every error of a bad one", async () => {
    const ok = await cli(["flows", "validate", good]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('flow "etl"');
    const shapeErrors = await cli(["flows", "validate", bad]);
    expect(shapeErrors.code).toBe(2);
    expect(shapeErrors.stderr).toContain('steps[0].script.lang: unknown language "ruby"');
    writeFileSync(bad, (await import("node:fs")).readFileSync(bad, "utf8").replace("ruby", "bash"));
    const graphErrors = await cli(["flows", "validate", bad]);
    expect(graphErrors.code).toBe(2);
    expect(graphErrors.stderr).toContain('steps[0].needs: unknown step "lod"');
    expect(graphErrors.stderr).toMatch(/steps: cycle: (b → c → b|c → b → c)/);
  });

  it("deploy (script files inlined), list, versions, show; run the flow on the database", async () => {
    const first = await cli(["flows", "deploy", good, ...db]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("deployed etl v1");
    expect((await cli(["flows", "deploy", good, ...db])).stdout).toContain("unchanged etl v1");
    writeFileSync(
      join(dir.path, "scripts", "extract.py"),
      "def main(n):\n    return list(range(n + 1))\n",
    );
    expect((await cli(["flows", "deploy", good, ...db])).stdout).toContain("deployed etl v2");
    const list = await cli(["flows", "list", "--json", ...db]);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: "etl", version: 2 })]);
    const versions = await cli(["flows", "versions", "etl", "--json", ...db]);
    expect(JSON.parse(versions.stdout).map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const show = await cli(["flows", "show", "etl", "1", ...db]);
    expect(show.stdout).toContain("file: scripts/extract.py");

    const cairn = await Cairn.open({ db: dir.db });
    try {
      await cairn.worker();
      const run = await cairn.start("etl", { n: 3 });
      expect(await run.result()).toEqual([0, 1, 2, 3]);
    } finally {
      await cairn.close();
    }
  });
});
