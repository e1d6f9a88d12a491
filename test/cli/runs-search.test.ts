import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Cairn, defineWorkflow } from "../../src/index.ts";
import { cli, tempDir } from "./cli.ts";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const order = defineWorkflow(
  { name: "order" },
  async (ctx, input: { customer: { id: string } }) => {
    await ctx.setTags({ customer: input.customer.id });
    return input.customer.id;
  },
);

const dir = tempDir();
const db = ["--db", dir.db];

beforeAll(async () => {
  const cairn = await Cairn.open({ db: dir.db, workflows: [order] });
  await cairn.worker();
  for (const [id, customer, tier] of [
    ["o1", "c-17", "gold"],
    ["o2", "c-18", "gold"],
    ["o3", "c-17", "free"],
  ] as const) {
    await (
      await cairn.start(order, { customer: { id: customer } }, { id, tags: { tier } })
    ).result();
  }
  await cairn.close();
});
afterAll(() => dir.remove());

const listed = async (args: string[]) => {
  const result = await cli(["runs", "list", "--json", ...args, ...db]);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { id: string }[]).map((r) => r.id).sort();
};

describe("cairn runs list --tag | --where", () => {
  it("filters by tags (repeatable, set at start or by ctx.setTags) and by input/output values", async () => {
    expect(await listed(["--tag", "tier:gold"])).toEqual(["o1", "o2"]);
    expect(await listed(["--tag", "tier:gold", "--tag", "customer:c-17"])).toEqual(["o1"]);
    expect(await listed(["--where", "input.customer.id:c-17"])).toEqual(["o1", "o3"]);
    expect(await listed(["--where", "output:c-18"])).toEqual(["o2"]);
  });

  it("refuses a malformed condition as a usage error that says what is wrong", async () => {
    const bad = await cli(["runs", "list", "--where", "customer.id:c-17", ...db]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must start with "input" or "output"/);
    const badTag = await cli(["runs", "list", "--tag", "tier", ...db]);
    expect(badTag.code).toBe(2);
  });
});

describe("cairn runs show", () => {
  it("prints a run's tags, from the start option and from ctx.setTags", async () => {
    const shown = await cli(["runs", "show", "o1", ...db]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^tags {6}customer:c-17, tier:gold$/m);
    const json = await cli(["runs", "show", "o1", "--json", ...db]);
    expect(JSON.parse(json.stdout).tags).toEqual({ customer: "c-17", tier: "gold" });
  });
});
