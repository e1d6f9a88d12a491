import { createServer, type Server } from "node:http";
import type { z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  type BulkResult,
  connect,
  type FlowSummary,
  type FlowVersion,
  type LogPage,
  RemoteCairnError,
  RemoteUnavailableError,
  type RemoteUpdate,
} from "../../src/client/index.ts";
import { defineWorkflow } from "../../src/index.ts";
import type { FlowVersionBody, FlowVersionList } from "../../src/server/flow-schemas.ts";
import type {
  BulkResult as BulkResultSchema,
  LogPage as LogPageSchema,
} from "../../src/server/schemas-ui.ts";
import type { StreamUpdate } from "../../src/server/stream-hub.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, startHarness } from "./harness.ts";
import { echo, gated, testWorkflows } from "./workflows.ts";

/** Writes two log lines, one from a step. */
const logged = defineWorkflow({ name: "logged" }, async (ctx, n: number) => {
  ctx.log.info("starting", { n });
  return ctx.step("work", (step) => {
    step.log.warn("working");
    return n * 2;
  });
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workflows: [...testWorkflows, logged] });
});
afterAll(async () => {
  await h.close();
});

describe("RemoteCairn operations beyond starting runs", () => {
  it("has wire types that accept what the server sends (checked by tsc)", () => {
    expectTypeOf<z.infer<typeof BulkResultSchema>>().toExtend<BulkResult>();
    expectTypeOf<z.infer<typeof LogPageSchema>>().toExtend<LogPage>();
    expectTypeOf<z.infer<typeof FlowVersionBody>>().toExtend<FlowVersion>();
    expectTypeOf<z.infer<typeof FlowVersionList>["versions"][number]>().toExtend<FlowSummary>();
    expectTypeOf<StreamUpdate>().toExtend<RemoteUpdate>();
  });

  it("cancels the runs a selection picks, after a dry run that only counts", async () => {
    const remote = connect(h.url);
    for (const id of ["bulk-a", "bulk-b"]) {
      await remote.start(gated, undefined, { id });
      await waitForStatus(h.cairn, id, "waiting");
    }
    const filter = { workflow: "gated", idPrefix: "bulk-" };
    const dry = await remote.bulk({ action: "cancel", filter, dryRun: true });
    expect(dry).toMatchObject({ matched: 2, affected: 0 });
    expect(dry.ids.sort()).toEqual(["bulk-a", "bulk-b"]);
    expect((await remote.getRun("bulk-a")).status).toBe("waiting");
    const done = await remote.bulk({ action: "cancel", ids: ["bulk-a", "bulk-b"] });
    expect(done).toMatchObject({ matched: 2, affected: 2 });
    expect((await remote.getRun("bulk-b")).status).toBe("cancelled");
  });

  it("reruns a run from a step with a new input", async () => {
    const remote = connect(h.url);
    await (await remote.start(echo, "first", { id: "rerun-src" })).result();
    const again = await remote.rerun("rerun-src", { fromStep: "echo", input: new Date(7) });
    expect(again).toMatchObject({ workflow: "echo", created: true });
    expect(again.id).not.toBe("rerun-src");
    expect(await again.result()).toEqual(new Date(7));
    await expect(remote.rerun("rerun-src", { fromStep: "nope" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      status: 400,
    });
  });

  it("reads a run's log lines page by page", async () => {
    const remote = connect(h.url);
    const run = await remote.start(logged, 21);
    expect(await run.result()).toBe(42);
    const all = await remote.runLogs(run.id);
    expect(all.logs.map((l) => [l.stepKey, l.level, l.message])).toEqual([
      [null, "info", "starting"],
      ["work", "warn", "working"],
    ]);
    expect(all.logs[0]?.fields).toEqual({ n: 21 });
    const rest = await remote.runLogs(run.id, { afterSeq: all.logs[0]?.seq ?? 0 });
    expect(rest.logs.map((l) => l.message)).toEqual(["working"]);
    const step = await remote.runLogs(run.id, { step: "work", limit: 10 });
    expect(step.logs.map((l) => l.message)).toEqual(["working"]);
    await expect(remote.runLogs("no-such-run")).rejects.toMatchObject({ status: 404 });
  });

  it("streams run and step updates, from before the run starts", async () => {
    const remote = connect(h.url);
    const updates: RemoteUpdate[] = [];
    let finished: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const stop = await remote.subscribe((update) => {
      if (update.runId !== "streamed") return;
      updates.push(update);
      if (update.type === "run" && update.status === "completed") finished();
    });
    try {
      await remote.start(echo, "live", { id: "streamed" });
      await done;
    } finally {
      stop();
    }
    expect(updates.some((u) => u.type === "step" && u.key === "echo")).toBe(true);
    expect(updates.at(-1)).toMatchObject({ type: "run", status: "completed", workflow: "echo" });
  });

  it("refuses a stream of a run that does not exist", async () => {
    await expect(connect(h.url).subscribe(() => {}, { run: "nope" })).rejects.toMatchObject({
      code: "RUN_NOT_FOUND",
    });
  });

  it("purges finished runs older than a duration, with the server's cut-off", async () => {
    const remote = connect(h.url);
    await (await remote.start(echo, "old", { id: "purge-old" })).result();
    h.clock.advance(3 * 86_400_000);
    const result = await remote.purgeRuns("2d");
    expect(result.purged).toBeGreaterThanOrEqual(1);
    expect(result.before).toEqual(new Date(h.clock.now() - 2 * 86_400_000));
    await expect(remote.getRun("purge-old")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await expect(remote.purgeRuns("soon" as never)).rejects.toBeInstanceOf(RemoteCairnError);
  });

  it("deploys, lists, reads and versions flows", async () => {
    const { flows } = connect(h.url);
    const source = "name: remote-flow\nsteps:\n  - id: say\n    sleep: 1s\n";
    expect(await flows.deploy(source)).toMatchObject({
      name: "remote-flow",
      version: 1,
      created: true,
    });
    expect((await flows.deploy(source)).created).toBe(false);
    h.clock.advance(1);
    expect(await flows.deploy(source.replace("1s", "2s"))).toMatchObject({ version: 2 });
    expect((await flows.list()).find((f) => f.name === "remote-flow")?.version).toBe(2);
    expect((await flows.get("remote-flow")).source).toContain("2s");
    const first = await flows.get("remote-flow", 1);
    expect(first).toMatchObject({ version: 1, source });
    expect(first.document).toMatchObject({ name: "remote-flow" });
    expect((await flows.versions("remote-flow")).map((v) => v.version)).toEqual([2, 1]);
    await expect(flows.get("no-flow")).rejects.toMatchObject({ status: 404 });
    await expect(flows.deploy("name: broken\nsteps: 3\n")).rejects.toMatchObject({
      code: "FLOW_INVALID",
    });
  });
});

describe("a server that does not answer", () => {
  it("is a RemoteUnavailableError naming the URL and the cause", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const error = await connect(url)
      .getRun("x")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnavailableError);
    expect(error).toMatchObject({
      code: "server_unavailable",
      reason: "unreachable",
      url,
      message: `No Cairn API answers at ${url} (ECONNREFUSED).`,
    });
    await expect(connect(url).subscribe(() => {})).rejects.toMatchObject({
      reason: "unreachable",
    });
  });

  it("gives up after timeoutMs when the server accepts but never answers", async () => {
    const silent: Server = createServer(() => {}); // takes the request, never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const error = await connect(url, { timeoutMs: 50 })
        .getRun("x")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteUnavailableError);
      expect(error).toMatchObject({
        reason: "timeout",
        message: `The Cairn API at ${url} did not answer within 50 ms.`,
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it("is broken when the connection closes halfway through the answer", async () => {
    // Promises 100 bytes, sends 2, hangs up: the client must not take "{}" for an answer.
    const halting: Server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" });
      res.write("{}", () => res.socket?.destroy());
    });
    await new Promise<void>((r) => halting.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(halting.address() as { port: number }).port}`;
    try {
      const error = await connect(url)
        .getRun("x")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteUnavailableError);
      expect(error).toMatchObject({ reason: "broken", url });
    } finally {
      await new Promise((r) => halting.close(r));
    }
  });
});

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
