import type { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, rawRequest, startHarness } from "./harness.ts";

/** The poison inputs that reach the HTTP API. */

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
type Problem = { code: string; status: number; detail: string };

let h: Harness;
let heapAtStart = 0;
beforeAll(async () => {
  h = await startHarness();
  gc();
  heapAtStart = process.memoryUsage().heapUsed;
});
afterAll(async () => {
  await h.close();
});

const postRaw = (
  body: string | Buffer | Readable,
  headers: Record<string, string> = {},
  path = "/api/v1/runs",
) =>
  rawRequest(h.url, {
    method: "POST",
    path,
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });

const problem = (res: { body: string }) => JSON.parse(res.body) as Problem;

async function startRun(input: unknown, id?: string) {
  return h.post("/api/v1/runs", { workflow: "echo", input, ...(id === undefined ? {} : { id }) });
}

describe("malformed bodies → 400 invalid_json", () => {
  it.each([
    ["malformed JSON", '{"workflow":', "application/json"],
    ["trailing garbage", '{"workflow":"echo"} x', "application/json"],
    ["wrong content type", '{"workflow":"echo"}', "text/plain"],
    ["form content type", "workflow=echo", "application/x-www-form-urlencoded"],
    ["empty body", "", "application/json"],
    ["whitespace body", "   \n", "application/json"],
    ["byte order mark", '\ufeff{"workflow":"echo"}', "application/json"],
  ])("%s", async (_label, body, type) => {
    const res = await postRaw(body, { "Content-Type": type });
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(problem(res).code).toBe("invalid_json");
  });

  it("no content type", async () => {
    const res = await rawRequest(h.url, {
      method: "POST",
      path: "/api/v1/runs",
      body: '{"workflow":"echo"}',
    });
    expect(problem(res).code).toBe("invalid_json");
  });

  it("invalid UTF-8", async () => {
    const res = await postRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    expect(problem(res)).toMatchObject({
      code: "invalid_json",
      detail: "The request body is not valid UTF-8.",
    });
  });

  it.each(["[]", "null", '"echo"', "42"])("a body that is not an object: %s", async (body) => {
    const res = await postRaw(body);
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe("invalid_request");
  });
});

describe("nesting → 400 too_deep, without a stack overflow", () => {
  it.each([
    ["arrays", "[".repeat(10_000) + "]".repeat(10_000)],
    ["objects", `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`],
    ["unclosed", "[".repeat(100_000)],
  ])("depth 10,000 %s", async (_label, nested) => {
    const res = await postRaw(`{"workflow":"echo","input":${nested}}`);
    expect(res.status).toBe(400);
    expect(problem(res).code).toBe("too_deep");
  });

  it("depth 64 in all is accepted, 65 is not", async () => {
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    expect((await postRaw(`{"workflow":"echo","input":${nested(63)}}`)).status).toBe(201);
    expect(problem(await postRaw(`{"workflow":"echo","input":${nested(64)}}`)).code).toBe(
      "too_deep",
    );
  });

  it("brackets inside strings do not count", async () => {
    const res = await postRaw(JSON.stringify({ workflow: "echo", input: "[".repeat(10_000) }));
    expect(res.status).toBe(201);
  });
});

describe("strings and ids", () => {
  it.each([
    ["NUL", "a\u0000b"],
    ["lone high surrogate", "x\ud800y"],
    ["lone low surrogate", "\udc00"],
    ["RTL override and emoji", "\u202eevil 🚀"],
  ])("%s in an input round-trips exactly", async (_label, text) => {
    const res = await startRun({ text }, `rt-${Math.random()}`);
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    await waitForStatus(h.cairn, id, "completed");
    const run = await json<{ input: { text: string }; output: { text: string } }>(
      await h.fetch(`/api/v1/runs/${encodeURIComponent(id)}`),
    );
    expect(run.input.text).toBe(text);
    expect(run.output.text).toBe(text);
  });

  it("a 1 MB string round-trips", async () => {
    const text = "é".repeat(512 * 1024);
    const res = await startRun(text, "one-mb");
    expect(res.status).toBe(201);
    await waitForStatus(h.cairn, "one-mb", "completed");
    expect((await json<{ output: string }>(await h.fetch("/api/v1/runs/one-mb"))).output).toBe(
      text,
    );
  });

  it.each([
    ["NUL in a run id", { workflow: "echo", id: "a\u0000b" }],
    ["lone surrogate in a run id", { workflow: "echo", id: "a\ud800" }],
    ["newline in a run id", { workflow: "echo", id: "a\nb" }],
    ["10 KB run id", { workflow: "echo", id: "i".repeat(10 * 1024) }],
    ["empty run id", { workflow: "echo", id: "" }],
    ["NUL in a workflow name", { workflow: "ec\u0000ho" }],
  ])("%s → 400", async (_label, body) => {
    const res = await h.post("/api/v1/runs", body);
    expect(res.status).toBe(400);
    expect((await json<Problem>(res)).code).toBe("invalid_request");
  });

  it("a 10 KB run id in the path → 400", async () => {
    const res = await h.fetch(`/api/v1/runs/${"i".repeat(10 * 1024)}`);
    expect(res.status).toBe(400);
  });

  it("NUL in an event name → 400", async () => {
    expect((await h.post("/api/v1/events", { name: "a\u0000" })).status).toBe(400);
  });

  it.each([
    "../../etc/passwd",
    "%00",
    "'; DROP TABLE runs; --",
    'Robert"); DELETE FROM steps; --',
    "\u202egnp.exe",
    "🚀🔥✨",
    "a/b?c#d",
    "with space",
    "%2e%2e%2f",
  ])("run id %s is stored verbatim and found again", async (id) => {
    const res = await startRun(1, id);
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/api/v1/runs/${encodeURIComponent(id)}`);
    const got = await h.fetch(`/api/v1/runs/${encodeURIComponent(id)}`);
    expect(got.status).toBe(200);
    expect((await json<{ id: string }>(got)).id).toBe(id);
  });

  it("__proto__ in an input is refused by the serializer (422), polluting nothing", async () => {
    const res = await postRaw(
      '{"workflow":"echo","input":{"__proto__":{"polluted":true}},"id":"proto"}',
    );
    expect(res.status).toBe(422);
    expect(problem(res)).toMatchObject({ code: "SERIALIZATION" });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect((await h.fetch("/api/v1/runs/proto")).status).toBe(404);
  });

  it("a malformed percent-encoding in the path is a 4xx", async () => {
    const res = await rawRequest(h.url, { path: "/api/v1/runs/%E0%A4%A" });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe("unknown workflow", () => {
  it("→ 404 and no run row", async () => {
    const before = (await h.cairn.listRuns({ limit: 1000 })).length;
    const res = await h.post("/api/v1/runs", { workflow: "no-such-workflow", id: "ghost-run" });
    expect(res.status).toBe(404);
    expect((await json<Problem>(res)).code).toBe("WORKFLOW_NOT_FOUND");
    expect((await h.cairn.listRuns({ limit: 1000 })).length).toBe(before);
  });
});

describe("after the corpus", () => {
  it("the server is up, no run is left unfinished, and the heap grew less than 20 MB", async () => {
    expect((await h.fetch("/healthz")).status).toBe(200);
    for (const status of ["queued", "running"] as const) {
      const runs = await h.cairn.listRuns({ status, limit: 1000 });
      for (const run of runs) await waitForStatus(h.cairn, run.id, ["completed", "failed"]);
    }
    // The corpus moves ~100 MB of large strings through this shared process; V8 keeps the
    // pages it grew for them, so RSS says little here. A forced GC and the live heap do.
    gc();
    expect(process.memoryUsage().heapUsed - heapAtStart).toBeLessThan(20 * 1024 * 1024);
  });
});
