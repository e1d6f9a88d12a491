import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow } from "../../src/index.ts";
import { createToken } from "../../src/server/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";

const quick = defineWorkflow({ name: "quick" }, async (ctx) => ctx.step("one", () => 1));

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

describe("POST /api/v1/runs/purge", () => {
  it("lets an admin delete finished runs older than a duration, and no one else", async () => {
    h = await startHarness({ workflows: [quick] });
    for (const id of ["old-1", "old-2"]) await (await h.cairn.start(quick, 1, { id })).result();
    h.clock.advance("31d");
    await (await h.cairn.start(quick, 1, { id: "young" })).result();
    const admin = (await createToken(h.tokens, h.clock, { name: "admin", role: "admin" })).secret;
    const operator = (await createToken(h.tokens, h.clock, { name: "ops", role: "operator" }))
      .secret;

    const refused = await h.post("/api/v1/runs/purge", { olderThan: "30d" }, bearer(operator));
    expect(refused.status).toBe(403);
    expect((await h.cairn.listRuns({})).length).toBe(3);

    const done = await h.post("/api/v1/runs/purge", { olderThan: "30d" }, bearer(admin));
    expect(done.status).toBe(200);
    expect(await json(done)).toEqual({
      purged: 2,
      before: new Date(h.clock.now() - 30 * 86_400_000).toISOString(),
    });
    expect((await h.cairn.listRuns({})).map((r) => r.id)).toEqual(["young"]);

    const bad = await h.post("/api/v1/runs/purge", { olderThan: "a month" }, bearer(admin));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await json(bad))).toContain('Invalid olderThan \\"a month\\"');

    const openapi = (await json(await h.fetch("/api/openapi.json"))) as {
      paths: Record<string, { post?: { summary?: string } }>;
    };
    expect(openapi.paths["/api/v1/runs/purge"]?.post?.summary).toContain("admins");
  });
});
