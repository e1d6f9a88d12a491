import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeTable } from "../../src/server/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, json, startHarness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe("health", () => {
  it("/healthz answers while the process is up", async () => {
    const res = await h.fetch("/healthz");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ok" });
  });

  it("/readyz follows setReady and the store", async () => {
    expect((await h.fetch("/readyz")).status).toBe(200);
    h.server.setReady(false);
    const draining = await h.fetch("/readyz");
    expect(draining.status).toBe(503);
    expect(await json(draining)).toMatchObject({ code: "not_ready" });
    h.server.setReady(true);
    expect((await h.fetch("/readyz")).status).toBe(200);
  });

  it("/readyz is 503 once the store is gone, without saying why to anonymous callers", async () => {
    const other = await startHarness();
    await other.cairn.close();
    const res = await other.fetch("/readyz");
    expect(res.status).toBe(503);
    expect((await json<{ detail: string }>(res)).detail).toBe(
      "The store did not answer the readiness probe.",
    );
    await other.close();
  });
});

describe("/metrics", () => {
  it("exposes the engine's metrics in Prometheus format", async () => {
    await h.post("/api/v1/runs", { workflow: "greet", input: { name: "m" }, id: "metered" });
    await waitForStatus(h.cairn, "metered", "completed");
    await h.post("/api/v1/runs", { workflow: "gated", id: "metered-wait" });
    await waitForStatus(h.cairn, "metered-wait", "waiting");
    const res = await h.fetch("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of [
      "cairn_runs_started_total",
      "cairn_runs_finished_total",
      "cairn_step_duration_seconds",
      "cairn_queue_depth",
      "cairn_queue_oldest_age_seconds",
      "cairn_lease_takeovers_total",
      "cairn_poison_runs_total",
      "cairn_claim_latency_seconds",
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/cairn_runs_finished_total\{workflow="greet",status="completed"\} [1-9]/);
    expect(text).toMatch(
      /cairn_step_duration_seconds_count\{workflow="greet",status="completed"\} [1-9]/,
    );
    expect(text).toMatch(/cairn_runs_waiting [1-9]/);
    // The loop's delay since the previous scrape, in seconds: a number, never NaN.
    expect(text).toMatch(/cairn_event_loop_delay_seconds\{quantile="1"\} \d/);
    expect(text).toMatch(/cairn_event_loop_delay_seconds\{quantile="0.99"\} \d/);
  });
});

describe("OpenAPI and docs", () => {
  it("/api/openapi.json is an OpenAPI 3.1 document with every route and its policy", async () => {
    const res = await h.fetch("/api/openapi.json");
    expect(res.status).toBe(200);
    const doc = await json<{
      openapi: string;
      paths: Record<string, Record<string, { "x-cairn-policy"?: string; responses: object }>>;
    }>(res);
    expect(doc.openapi).toBe("3.1.0");
    for (const route of routeTable) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation?.["x-cairn-policy"]).toBe(route.policy);
    }
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item));
    expect(operations).toHaveLength(routeTable.length);
  });

  it("/api/docs is a self-contained page under a nonce CSP", async () => {
    const res = await h.fetch("/api/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // no CDN
    expect(html).toContain('id="problem-RUN_NOT_FOUND"');
  });
});

describe("every response", () => {
  it.each([
    ["/healthz", 200],
    ["/api/v1/runs", 200],
    ["/api/v1/runs/missing", 404],
    ["/api/no/such/route", 404],
  ])("%s carries the security headers", async (path, status) => {
    const res = await h.fetch(path);
    expect(res.status).toBe(status);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
  });

  it("errors are problem+json without stack traces", async () => {
    const res = await h.fetch("/api/v1/runs/missing");
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await json(res);
    expect(body).toEqual({
      type: "/api/docs#problem-RUN_NOT_FOUND",
      title: "Run not found",
      status: 404,
      detail: 'No run with id "missing".',
      code: "RUN_NOT_FOUND",
      instance: "/api/v1/runs/missing",
      requestId: expect.any(String),
    });
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
