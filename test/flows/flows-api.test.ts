import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "../server/harness.ts";
import { poisonFlows } from "./poison-flows.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const flow = (say: string) => `# a comment kept in the source
name: greeting
description: says hello
input: { type: object, properties: { who: { type: string } }, required: [who] }
steps:
  - id: hello
    script: { lang: bash, source: 'echo "{\\"msg\\": \\"${say} $CAIRN_ARG_WHO\\"}"' }
    with: { who: "=input.who" }
  - id: ok
    needs: [hello]
    approval: { timeout: 1h }
output: "=steps.hello.msg"
`;

describe("flows over HTTP", () => {
  it("publishes the JSON Schema of flow documents", async () => {
    const res = await h.fetch("/api/v1/flows/schema");
    expect(res.status).toBe(200);
    const schema = await json(res);
    expect(JSON.stringify(schema)).toContain('"forEach"');
  });

  it("deploys, versions, shows source and document, starts runs and approves them", async () => {
    const first = await h.post("/api/v1/flows", { source: flow("hello") });
    expect(first.status, await first.clone().text()).toBe(201);
    expect(await json(first)).toMatchObject({ name: "greeting", version: 1, created: true });
    const again = await h.post("/api/v1/flows", { source: flow("hello") });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ version: 1, created: false });
    expect((await json(await h.post("/api/v1/flows", { source: flow("hi") }))).version).toBe(2);

    const list = await json<{ flows: { name: string; version: number }[] }>(
      await h.fetch("/api/v1/flows"),
    );
    expect(list.flows).toEqual([expect.objectContaining({ name: "greeting", version: 2 })]);
    const versions = await json<{ versions: { version: number }[] }>(
      await h.fetch("/api/v1/flows/greeting/versions"),
    );
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    const v1 = await json<{
      source: string;
      document: { name: string };
      hash: string;
      createdAt: string;
    }>(await h.fetch("/api/v1/flows/greeting/versions/1"));
    expect(v1.source).toContain("# a comment kept in the source");
    expect(v1.document.name).toBe("greeting");
    expect(v1.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await h.fetch("/api/v1/flows/greeting/versions/9")).status).toBe(404);
    expect((await h.fetch("/api/v1/flows/nope")).status).toBe(404);

    const bad = await h.post("/api/v1/runs", { workflow: "greeting", input: {} });
    expect(bad.status).toBe(422);
    const started = await h.post("/api/v1/runs", { workflow: "greeting", input: { who: "ann" } });
    expect(started.status).toBe(201);
    const { id } = await json<{ id: string }>(started);
    await waitForStatus(h.cairn, id, "waiting");
    const approve = await h.post(`/api/v1/runs/${id}/approvals/ok`, { approved: true, by: "bob" });
    expect(approve.status).toBe(202);
    expect(await h.cairn.handle(id).result()).toBe("hi ann");
  });

  it(`rejects ${poisonFlows.length} poison documents with 422 and the error's path, never a 5xx`, async () => {
    expect(poisonFlows.length).toBeGreaterThanOrEqual(40);
    for (const { source, error } of poisonFlows) {
      const res = await h.post("/api/v1/flows", { source });
      const body = await json<{ errors?: string[]; detail: string }>(res);
      expect(res.status, source).toBeLessThan(500);
      expect(res.status, source).toBeGreaterThanOrEqual(400);
      expect(body.detail, source).toMatch(error);
    }
    const list = await json<{ flows: { name: string }[] }>(await h.fetch("/api/v1/flows"));
    expect(list.flows.map((f) => f.name)).not.toContain("x");
  });
});
