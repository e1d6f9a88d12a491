import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Cairn } from "../../src/index.ts";
import { cli, root, tempDir } from "./cli.ts";
import { greet } from "./fixtures/workflows/greet.ts";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

// `cairn runs list` should answer in well under a second: the commands that only read open
// the store and nothing else. A load hook records every module the CLI process imports.
const dir = tempDir();
const recorder = pathToFileURL(join(root, "test/support/record-loads.mjs")).href;

beforeAll(async () => {
  const cairn = await Cairn.open({ db: dir.db, workflows: [greet] });
  await cairn.start(greet, { name: "Ada" }, { id: "g1" });
  await cairn.close();
});
afterAll(() => dir.remove());

/** The modules `cairn <args>` loaded: paths under src/, and package names. */
async function loadsOf(
  args: string[],
  name: string,
): Promise<{ src: string[]; packages: string[] }> {
  const file = join(dir.path, `${name}.loads`);
  const result = await cli([...args, "--db", dir.db], {
    env: { NODE_OPTIONS: `--import=${recorder}`, CAIRN_RECORD_LOADS: file },
  });
  expect(result.code, result.stderr).toBe(0);
  const urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
  const rootUrl = pathToFileURL(root).href;
  const src = urls
    .filter((u) => u.startsWith(`${rootUrl}/src/`))
    .map((u) => u.slice(rootUrl.length + 1));
  const packages = urls
    .map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1])
    .filter((p): p is string => p !== undefined && p !== "tsx" && p !== "esbuild");
  return { src, packages: [...new Set(packages)] };
}

const heavyPackages = [
  "zod",
  "hono",
  "@hono/node-server",
  "@hono/zod-openapi",
  "@opentelemetry/api",
  "ajv",
  "yaml",
  "jsonata",
  "pino",
  "prom-client",
  "croner",
  "postgres",
];
const heavyFolders = [
  "src/server/",
  "src/worker/",
  "src/engine/flows/",
  "src/sdk/",
  "src/store-postgres/",
];

describe.each([
  ["runs list", ["runs", "list"]],
  ["runs show", ["runs", "show", "g1"]],
])("cairn %s", (name, args) => {
  it("loads the store and none of the engine, server, worker, flows or tracing", async () => {
    const { src, packages } = await loadsOf(args, name.replace(" ", "-"));
    expect(src).toContain("src/store-sqlite/sqlite-store.ts");
    expect(src.filter((path) => heavyFolders.some((folder) => path.startsWith(folder)))).toEqual(
      [],
    );
    expect(src).not.toContain("src/engine/engine.ts");
    expect(packages.filter((p) => heavyPackages.includes(p))).toEqual([]);
  });
});
