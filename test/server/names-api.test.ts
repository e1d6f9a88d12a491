import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineWorkflow } from "../../src/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";
import { testWorkflows } from "./workflows.ts";

/**
 * Bad names and cursors over HTTP: every one a 400 that says what is wrong, the same on
 * both stores (this file is in vitest.config.ts's engineTests), never a 500.
 */

type Problem = { status: number; code: string; detail: string };

const child = defineWorkflow({ name: "names-child" }, async () => "child");
const longParent = defineWorkflow({ name: "long-parent" }, async (ctx) =>
  ctx.invoke("c".repeat(200), child, null),
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workflows: [...testWorkflows, child, longParent] });
});
afterAll(async () => {
  await h.close();
});

/** Status, code and detail of a response, as one comparable line. */
async function answer(res: Response): Promise<string> {
  if (res.status < 400) return String(res.status);
  const body = await json<Problem>(res);
  return `${res.status} ${body.code}: ${body.detail}`;
}

const base64url = (text: string | Buffer) => Buffer.from(text).toString("base64url");

describe("names over HTTP", () => {
  it("answers 400 with the refusal for names no store can hold", async () => {
    await h.post("/api/v1/runs", { workflow: "gated", id: "r1" });
    await waitForStatus(h.cairn, "r1", "waiting");
    const nul = '"a\\u0000b" contains a control character (U+0000) at index 1';
    const cases: Record<string, [() => Promise<Response>, string]> = {
      "start id": [
        () => h.post("/api/v1/runs", { workflow: "echo", id: "a\u0000b" }),
        `400 invalid_request: body.id: run id ${nul}`,
      ],
      "start workflow": [
        () => h.post("/api/v1/runs", { workflow: "a\u0000b" }),
        `400 invalid_request: body.workflow: workflow name ${nul}`,
      ],
      "start id, lone surrogate": [
        () => h.post("/api/v1/runs", { workflow: "echo", id: "\ud800" }),
        '400 invalid_request: body.id: run id "\\ud800" contains an unpaired surrogate (U+D800) at index 0',
      ],
      "event name": [
        () => h.post("/api/v1/events", { name: "a\u0000b", data: 1 }),
        `400 invalid_request: body.name: event name ${nul}`,
      ],
      "event id": [
        () => h.post("/api/v1/events", { name: "e", id: "a\u0000b" }),
        `400 invalid_request: body.id: event id ${nul}`,
      ],
      "signal name": [
        () => h.post("/api/v1/runs/r1/signals/a%00b", { payload: 1 }),
        `400 invalid_request: path.name: signal name ${nul}`,
      ],
      "run id in path": [
        () => h.fetch("/api/v1/runs/a%00b"),
        `400 invalid_request: path.id: run id ${nul}`,
      ],
      "tag filter": [
        () => h.fetch("/api/v1/runs?tag=k%3Aa%00b"),
        '400 invalid_request: query.tag: tag "k:a\\u0000b" contains a control character (U+0000) at index 3',
      ],
      "id prefix": [
        () => h.fetch("/api/v1/runs?idPrefix=a%00b"),
        `400 invalid_request: query.idPrefix: idPrefix ${nul}`,
      ],
      "workflow filter": [
        () => h.fetch("/api/v1/runs?workflow=a%00b"),
        `400 invalid_request: query.workflow: workflow name ${nul}`,
      ],
      "event name filter": [
        () => h.fetch("/api/v1/events?name=a%00b"),
        `400 invalid_request: query.name: event name ${nul}`,
      ],
    };
    const actual: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [label, [request, want]] of Object.entries(cases)) {
      actual[label] = await answer(await request());
      expected[label] = want;
    }
    expect(actual).toEqual(expected);
    // Nothing was created, and the waiting run still takes its signal.
    expect((await h.cairn.listRuns()).map((r) => r.id)).toEqual(["r1"]);
    expect((await h.post("/api/v1/runs/r1/signals/go", { payload: "a\u0000b" })).status).toBe(202);
    expect(await h.cairn.handle("r1").result()).toEqual({ got: "a\u0000b" });
  });

  it("round-trips NUL and lone surrogates in a run's input and output", async () => {
    const input = { nul: "a\u0000b", lone: "\ud800", low: "x\udc00y", emoji: "🚀" };
    const res = await h.post("/api/v1/runs", { workflow: "echo", id: "payload", input });
    expect(res.status).toBe(201);
    await waitForStatus(h.cairn, "payload", "completed");
    const run = await json<{ input: unknown; output: unknown }>(
      await h.fetch("/api/v1/runs/payload"),
    );
    expect(run).toMatchObject({ input, output: input });
  });

  it("serves the child of a 256-character parent by the id its parent recorded", async () => {
    const parentId = "p".repeat(256);
    await h.post("/api/v1/runs", { workflow: "long-parent", id: parentId });
    await waitForStatus(h.cairn, parentId, "completed");
    const parent = await json<{ steps: { childRunId?: string }[] }>(
      await h.fetch(`/api/v1/runs/${parentId}`),
    );
    const childId = parent.steps[0]?.childRunId ?? "";
    expect(childId).toMatch(/^p{239}~[0-9a-f]{16}$/);
    const res = await h.fetch(`/api/v1/runs/${encodeURIComponent(childId)}`);
    expect(await json(res)).toMatchObject({ id: childId, parentId, status: "completed" });
  });
});

describe("keyset cursors", () => {
  const refusal =
    "400 invalid_cursor: The cursor is not one this API returned; pass `nextCursor` from the previous page unchanged.";
  const cursors: Record<string, string> = {
    "garbage base64": "!!!not*base64",
    empty: "",
    "not JSON": base64url("[1,"),
    "invalid UTF-8": base64url(Buffer.from([0xff, 0xfe, 0x00])),
    "an object": base64url('{"createdAt":1,"id":"x"}'),
    "three items": base64url('[1,"x",2]'),
    "fractional time": base64url('[1.5,"x"]'),
    "time as text": base64url('["1","x"]'),
    "empty id": base64url('[1,""]'),
    "id with NUL": base64url('[1,"a\\u0000b"]'),
    "NUL only": base64url('[1,"\\u0000"]'),
    "id with a lone surrogate": base64url('[1,"\\ud800"]'),
  };

  for (const path of ["/api/v1/runs", "/api/v1/events"]) {
    it(`${path} answers 400 to every malformed cursor, 200 to its own`, async () => {
      const actual: Record<string, string> = {};
      for (const [label, cursor] of Object.entries(cursors)) {
        actual[label] = await answer(await h.fetch(`${path}?cursor=${encodeURIComponent(cursor)}`));
      }
      expect(actual).toEqual(Object.fromEntries(Object.keys(cursors).map((k) => [k, refusal])));
      for (const n of [1, 2, 3]) {
        if (path === "/api/v1/events") await h.cairn.sendEvent("paged", n);
        else await h.cairn.start("echo", n);
      }
      const first = await json<{ nextCursor: string | null }>(await h.fetch(`${path}?limit=1`));
      expect(first.nextCursor).not.toBeNull();
      const next = await h.fetch(`${path}?limit=1&cursor=${first.nextCursor}`);
      expect(next.status).toBe(200);
      // A child run's id (`parent/step`) may pass 256 characters: its cursor is still good.
      const long = base64url(`[1,"${"x".repeat(300)}"]`);
      expect((await h.fetch(`${path}?cursor=${long}`)).status).toBe(200);
    });
  }
});
