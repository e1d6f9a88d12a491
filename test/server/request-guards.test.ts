import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/server/index.ts";
import { type Harness, json, rawRequest, startHarness } from "./harness.ts";

/** Request guards before auth: paths, methods, Host and Origin. */

let h: Harness;
const secrets = { admin: "", operator: "", viewer: "" };

beforeAll(async () => {
  h = await startHarness({
    server: { allowedOrigins: ["http://ui.example"], allowedHosts: ["cairn.internal"] },
  });
  for (const role of ["admin", "operator", "viewer"] as const) {
    secrets[role] = (await createToken(h.tokens, h.clock, { name: role, role })).secret;
  }
  await h.post(
    "/api/v1/runs",
    { workflow: "gated", id: "auth-run" },
    {
      Authorization: `Bearer ${secrets.admin}`,
    },
  );
});
afterAll(async () => {
  await h.close();
});

describe("path tricks", () => {
  it.each([
    "/api/v1/runs/..",
    "/api/v1/x/../runs",
    "/api/v1/%2e%2e/v1/runs",
    "/api/v1/runs/%2e%2e/auth-run",
    "/healthz/../api/v1/runs",
    "//api/v1/runs",
    "/api/v1//runs",
    "/api/v1/runs/",
    "/API/V1/RUNS",
    "/api/v1/Runs",
    "/api/v1/runs;x",
    "/api/v1/runs%2f",
    "/api/v1/runs/auth-run%2f..%2f..%2fworkflows",
    "/api/v1/runs/auth-run/",
  ])("%s without a token never reaches a handler", async (path) => {
    const res = await rawRequest(h.url, { path });
    expect([400, 401, 403, 404]).toContain(res.status);
    expect(res.body).not.toContain('"workflow":"gated"');
  });
});

describe("method override", () => {
  it("X-HTTP-Method-Override is ignored: a viewer's POST stays a POST", async () => {
    for (const header of ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"]) {
      const res = await h.post("/api/v1/runs/auth-run/cancel", undefined, {
        Authorization: `Bearer ${secrets.viewer}`,
        [header]: "GET",
      });
      expect(res.status).toBe(403);
    }
  });

  it("a GET that asks to be a POST lists runs and starts nothing", async () => {
    const before = (await h.cairn.listRuns({ limit: 1000 })).length;
    const res = await rawRequest(h.url, {
      path: "/api/v1/runs",
      headers: {
        Authorization: `Bearer ${secrets.admin}`,
        "X-HTTP-Method-Override": "POST",
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ workflow: "echo", input: 1 }),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty("runs");
    expect((await h.cairn.listRuns({ limit: 1000 })).length).toBe(before);
  });
});

describe("Host and Origin (DNS rebinding and CSRF)", () => {
  it.each([
    "evil.example",
    "evil.example:80",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "[::2]",
  ])("Host %s gets 403 even with an admin token", async (host) => {
    const res = await rawRequest(h.url, {
      path: "/api/v1/runs",
      headers: { Host: host, Authorization: `Bearer ${secrets.admin}` },
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: "forbidden_host" });
  });

  it("accepts loopback names and allowedHosts", async () => {
    const port = new URL(h.url).port;
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      "cairn.internal",
    ]) {
      const res = await rawRequest(h.url, { path: "/healthz", headers: { Host: host } });
      expect(res.status, host).toBe(200);
    }
  });

  it("an absolute request target naming another host gets 403", async () => {
    const res = await rawRequest(h.url, { path: "http://evil.example/api/v1/runs" });
    expect(res.status).toBe(403);
  });

  it("refuses a cross-site POST even with a valid token", async () => {
    const res = await h.post(
      "/api/v1/runs",
      { workflow: "echo", input: 1 },
      { Origin: "http://evil.example", Authorization: `Bearer ${secrets.admin}` },
    );
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ code: "forbidden_origin" });
    const nullOrigin = await h.post(
      "/api/v1/events",
      { name: "x" },
      {
        Origin: "null",
        Authorization: `Bearer ${secrets.admin}`,
      },
    );
    expect(nullOrigin.status).toBe(403);
  });

  it("refuses a browser's cross-site request that carries no Origin", async () => {
    const res = await h.fetch("/api/v1/runs", {
      headers: {
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "no-cors",
        Authorization: `Bearer ${secrets.admin}`,
      },
    });
    expect(res.status).toBe(403);
  });

  it("accepts the server's own origin and allowedOrigins, with CORS headers for the latter", async () => {
    const own = await h.post(
      "/api/v1/events",
      { name: "x" },
      {
        Origin: h.url,
        Authorization: `Bearer ${secrets.operator}`,
      },
    );
    expect(own.status).toBe(202);
    expect(own.headers.get("access-control-allow-origin")).toBeNull();
    const ui = await h.fetch("/api/v1/runs", {
      headers: { Origin: "http://ui.example", Authorization: `Bearer ${secrets.viewer}` },
    });
    expect(ui.status).toBe(200);
    expect(ui.headers.get("access-control-allow-origin")).toBe("http://ui.example");
  });

  it("denies a CORS preflight from an evil origin and answers one from an allowed origin", async () => {
    const preflight = (origin: string) =>
      h.fetch("/api/v1/runs", {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization, content-type",
        },
      });
    const evil = await preflight("http://evil.example");
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    const ui = await preflight("http://ui.example");
    expect(ui.status).toBe(204);
    expect(ui.headers.get("access-control-allow-origin")).toBe("http://ui.example");
    expect(ui.headers.get("access-control-allow-headers")).toContain("Authorization");
  });

  it("refuses a WebSocket-style upgrade from an evil origin", async () => {
    const res = await rawRequest(h.url, {
      path: "/api/v1/stream",
      headers: { Origin: "http://evil.example", Connection: "Upgrade", Upgrade: "websocket" },
    });
    expect(res.status).toBe(403);
  });
});
