import { afterEach, describe, expect, it } from "vitest";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { waitForStatus } from "../src/testing/index.ts";
import { type Harness, json, startHarness } from "./server/harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Order = { customer: { id: string }; items: { sku: string }[]; total: number };
type Page = { runs: { id: string }[]; nextCursor: string | null };
type Problem = { status: number; code: string; detail: string };

const bodies = { tagged: 0 };
const tagged = defineWorkflow({ name: "tagged" }, async (ctx, order: Order) => {
  await ctx.setTags({ customer: order.customer.id });
  await ctx.step("after", () => bodies.tagged++);
  return { total: order.total, paid: order.total > 0 };
});

const badTags = defineWorkflow({ name: "bad-tags" }, async (ctx) => {
  await ctx.setTags({ "a:b": "x" });
});

const order = (id: string, total: number, sku = "sku-1"): Order => ({
  customer: { id },
  items: [{ sku }],
  total,
});

async function ids(path: string): Promise<string[]> {
  const res = await h?.fetch(path);
  if (!res) throw new Error("no harness");
  expect(res.status).toBe(200);
  return (await json<Page>(res)).runs.map((r) => r.id).sort();
}

describe("tags", () => {
  it("ctx.setTags tags the run once, searchable like start tags, and replays without writing again", async () => {
    h = await startHarness({ workflows: [tagged, badTags] });
    const run = await h.cairn.start(tagged, order("c1", 5), { id: "t1", tags: { tier: "gold" } });
    await run.result();
    await h.cairn.start(tagged, order("c2", 5), { id: "t2", tags: { tier: "gold" } });
    await waitForStatus(h.cairn, "t2", "completed");

    expect(await ids("/api/v1/runs?tag=customer:c1")).toEqual(["t1"]);
    expect(await ids("/api/v1/runs?tag=tier:gold")).toEqual(["t1", "t2"]);
    expect(await ids("/api/v1/runs?tag=tier:gold&tag=customer:c2")).toEqual(["t2"]);
    const info = await h.cairn.getRun("t1");
    expect(info.steps.map((s) => s.key)).toEqual(["setTags", "after"]);
    // A replay returns the recorded step: the tags are not written again.
    const tagStore = h.cairn.store.tags;
    const set = tagStore.set;
    let writes = 0;
    tagStore.set = (...args) => {
      writes++;
      return set.apply(tagStore, args);
    };
    expect((await h.cairn.replay("t1")).result).toBe("consistent");
    tagStore.set = set;
    expect(writes).toBe(0);
    const detail = await json<{ tags: Record<string, string> }>(await h.fetch("/api/v1/runs/t1"));
    expect(detail.tags).toEqual({ customer: "c1", tier: "gold" });

    const bad = await h.cairn.start(badTags, {});
    await expect(bad.result()).rejects.toThrow(/tag key "a:b" contains ':'/);
    expect((await h.cairn.getRun(bad.id)).steps).toEqual([]);
  });

  it("starts over HTTP with tags and an idempotency key", async () => {
    h = await startHarness({ workflows: [tagged] });
    const body = {
      workflow: "tagged",
      input: order("c3", 1),
      tags: { source: "api" },
      idempotency: { key: "checkout-9", ttl: "1h" },
    };
    const first = await h.post("/api/v1/runs", body);
    expect(first.status).toBe(201);
    const { id } = await json<{ id: string }>(first);
    const again = await h.post("/api/v1/runs", body);
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ id, created: false });
    await waitForStatus(h.cairn, id, "completed");
    expect(await ids("/api/v1/runs?tag=source:api")).toEqual([id]);
    // The remote client sends tags and the key (a key function runs on the client).
    const remote = Cairn.connect(h.url);
    const options = {
      idempotency: { key: (o: Order) => `remote-${o.customer.id}`, ttl: "1h" as const },
    };
    const viaClient = await remote.start<Order, unknown>("tagged", order("c4", 9), options);
    const viaClientAgain = await remote.start<Order, unknown>("tagged", order("c4", 9), options);
    expect(viaClient.created).toBe(true);
    expect(viaClientAgain).toMatchObject({ id: viaClient.id, created: false });

    const bad = await h.post("/api/v1/runs", { ...body, idempotency: { key: "k", ttl: "later" } });
    expect(bad.status).toBe(400);
  });
});

describe("search over input and output", () => {
  it("finds runs by a value at a path of their input or output: strings, numbers, array items", async () => {
    h = await startHarness({ workflows: [tagged] });
    const runs = [
      ["s1", order("c-17", 17, "apple")],
      ["s2", order("c-18", 3, "pear")],
      ["s3", order("c-17", 0, "pear")],
    ] as const;
    for (const [id, input] of runs) await h.cairn.start(tagged, input, { id });
    for (const [id] of runs) await waitForStatus(h.cairn, id, "completed");

    expect(await ids("/api/v1/runs?where=input.customer.id:c-17")).toEqual(["s1", "s3"]);
    expect(await ids("/api/v1/runs?where=input.items.0.sku:pear")).toEqual(["s2", "s3"]);
    expect(await ids("/api/v1/runs?where=output.total:17")).toEqual(["s1"]);
    expect(await ids("/api/v1/runs?where=output.paid:false")).toEqual(["s3"]);
    expect(
      await ids("/api/v1/runs?where=input.customer.id:c-17&where=input.items.0.sku:pear"),
    ).toEqual(["s3"]);
    expect(await ids("/api/v1/runs?where=input.customer.id:c-17&status=completed")).toEqual([
      "s1",
      "s3",
    ]);
    expect(await ids("/api/v1/runs?where=input.customer.id:nobody")).toEqual([]);
    const engine = await h.cairn.searchRuns({ where: ["input.customer.id:c-18"] });
    expect(engine.runs.map((r) => r.id)).toEqual(["s2"]);
  });

  it("refuses a malformed path or value with a 400 naming it", async () => {
    h = await startHarness({ workflows: [tagged] });
    const cases: [string, RegExp][] = [
      ["customer.id:c-17", /must start with "input" or "output"/],
      ["input.customer.id", /no ':'/],
      ["input..id:x", /empty segment/],
      ["input.a b:x", /path segment "a b"/],
      ["input.customer.id:\u0001", /value/],
    ];
    for (const [where, message] of cases) {
      const res = await h.fetch(`/api/v1/runs?where=${encodeURIComponent(where)}`);
      expect(res.status).toBe(400);
      const problem = await json<Problem>(res);
      expect(problem.code).toBe("INVALID_ARGUMENT");
      expect(problem.detail).toMatch(message);
    }
  });

  it("examines a bounded number of runs per call, and says where to go on", async () => {
    h = await startHarness({ workflows: [tagged] });
    // Oldest first: the one match is the oldest run, behind four that do not match.
    await h.cairn.start(tagged, order("needle", 1), { id: "r0" });
    for (let i = 1; i <= 4; i++) {
      h.clock.advance("1s");
      await h.cairn.start(tagged, order(`hay-${i}`, 1), { id: `r${i}` });
    }
    const where = ["input.customer.id:needle"];
    const first = await h.cairn.searchRuns({ where, scanLimit: 3, limit: 10 });
    expect(first.runs).toEqual([]);
    expect(first.scannedTo?.id).toBe("r2");
    const rest = await h.cairn.searchRuns({
      where,
      scanLimit: 3,
      limit: 10,
      ...(first.scannedTo ? { before: first.scannedTo } : {}),
    });
    expect(rest.runs.map((r) => r.id)).toEqual(["r0"]);
    expect(rest.scannedTo).toBeNull();
  });
});
