import { afterEach, expect, it } from "vitest";
import { startHarness } from "./harness.ts";

/** `dedicatedProcess`: the server may swap the process's `Request` and `Response`, and only then. */

// The adapter replaces them for the whole process, and the engine tests share their worker
// processes between files: each test puts Node's own back.
const nodeGlobals = {
  Request: Object.getOwnPropertyDescriptor(globalThis, "Request"),
  Response: Object.getOwnPropertyDescriptor(globalThis, "Response"),
};
const NodeResponse = globalThis.Response;
afterEach(() => {
  for (const [name, descriptor] of Object.entries(nodeGlobals)) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
  }
  expect(globalThis.Response).toBe(NodeResponse);
});

it("leaves Node's Request and Response alone by default: the server may share its process", async () => {
  const h = await startHarness();
  try {
    const started = await h.post("/api/v1/runs", { workflow: "echo", input: 1, id: "shared-1" });
    expect(started.status).toBe(201);
    expect(globalThis.Response).toBe(NodeResponse);
  } finally {
    await h.close();
  }
});

it("with dedicatedProcess, answers through the adapter's Response, which stands in for Node's", async () => {
  const h = await startHarness({ server: { dedicatedProcess: true } });
  try {
    expect(globalThis.Response).not.toBe(NodeResponse);
    const own = new Response('{"ok":true}', { status: 202 });
    expect(own).toBeInstanceOf(NodeResponse);
    expect([own.status, await own.json()]).toEqual([202, { ok: true }]);

    const started = await h.post("/api/v1/runs", { workflow: "echo", input: 2, id: "own-1" });
    expect(started.status).toBe(201);
    expect(started.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await started.json()).toMatchObject({ id: "own-1", created: true });
    const missing = await h.fetch("/api/v1/runs/no-such-run");
    expect([missing.status, missing.headers.get("content-type")]).toEqual([
      404,
      "application/problem+json",
    ]);
  } finally {
    await h.close();
  }
});
