import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiRoute } from "../../src/server/api-route.ts";
import {
  createApp,
  createToken,
  listTokens,
  revokeToken,
  routeTable,
} from "../../src/server/index.ts";
import { type Harness, json, rawRequest, startHarness } from "./harness.ts";

/** Routes the app serves that the route table does not declare (must be none). */
function undeclaredRoutes(app: { routes: { method: string; path: string }[] }): string[] {
  const declared = new Set(
    routeTable.map((r) => `${r.method} ${r.path.replace(/\{(\w+)\}/g, ":$1")}`),
  );
  return app.routes
    .filter((r) => !(r.method === "ALL" && r.path === "/*")) // the global guards
    .map((r) => `${r.method} ${r.path}`)
    .filter((key) => !declared.has(key));
}

// The result route waits for the run's end, which the held run never reaches: not at all.
const concretePath = (route: ApiRoute) =>
  route.path.replace("{id}", "auth-run").replace("{name}", "go") +
  (route.path.endsWith("/result") ? "?waitMs=0" : "");

/** A request each route would accept from a strong enough caller. */
function requestFor(route: ApiRoute, authorization?: string): RequestInit {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.Authorization = authorization;
  const bodies: Record<string, unknown> = {
    "POST /api/v1/runs": { workflow: "echo", input: 1 },
    "POST /api/v1/events": { name: "auth.test" },
    "POST /api/v1/runs/{id}/signals/{name}": {},
  };
  const body = bodies[`${route.method} ${route.path}`];
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return {
    method: route.method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

const guarded = routeTable.filter((r) => r.policy !== "public" && r.policy !== "webhook");
const operatorRoutes = guarded.filter((r) => r.policy === "operator" || r.policy === "admin");

let h: Harness;
const secrets = { admin: "", operator: "", viewer: "", revoked: "" };

beforeAll(async () => {
  h = await startHarness({
    server: { allowedOrigins: ["http://ui.example"], allowedHosts: ["cairn.internal"] },
  });
  for (const role of ["admin", "operator", "viewer"] as const) {
    secrets[role] = (await createToken(h.tokens, h.clock, { name: role, role })).secret;
  }
  const revoked = await createToken(h.tokens, h.clock, { name: "old", role: "admin" });
  secrets.revoked = revoked.secret;
  expect(await revokeToken(h.tokens, h.clock, revoked.id)).toBe(true);
  await h.post(
    "/api/v1/runs",
    { workflow: "gated", id: "auth-run" },
    { Authorization: `Bearer ${secrets.admin}` },
  );
});
afterAll(async () => {
  await h.close();
});

async function status(route: ApiRoute, authorization?: string, query = ""): Promise<number> {
  const path = concretePath(route);
  const joined = path.includes("?") ? `${path}${query.replace(/^\?/, "&")}` : `${path}${query}`;
  const res = await h.fetch(joined, requestFor(route, authorization));
  await res.body?.cancel();
  return res.status;
}

describe("route table", () => {
  it("declares a policy for every route the app serves", () => {
    expect(undeclaredRoutes(createApp(h.cairn))).toEqual([]);
    for (const route of routeTable) {
      expect(["public", "webhook", "viewer", "operator", "admin"]).toContain(route.policy);
    }
    const keys = routeTable.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("notices a route added without going through the table", () => {
    const app = createApp(h.cairn);
    app.get("/api/v1/sneaky", (c) => c.text("no policy"));
    expect(undeclaredRoutes(app)).toEqual(["GET /api/v1/sneaky"]);
  });
});

describe("auth matrix (a token exists, so auth is on even on loopback)", () => {
  const badHeaders = [
    ["no token", undefined],
    ["malformed", "Bearer not-a-cairn-token"],
    ["unknown well-formed token", `Bearer cairn_${"A".repeat(43)}`],
    ["lower-case scheme", () => `bearer ${secrets.admin}`],
    ["upper-case scheme", () => `BEARER ${secrets.admin}`],
    ["two spaces", () => `Bearer  ${secrets.admin}`],
    ["tab", () => `Bearer\t${secrets.admin}`],
    ["colon", () => `Bearer:${secrets.admin}`],
    ["other scheme", () => `Token ${secrets.admin}`],
    ["basic", () => `Basic ${Buffer.from(`x:${secrets.admin}`).toString("base64")}`],
    ["token with suffix", () => `Bearer ${secrets.admin}x`],
    ["revoked", () => `Bearer ${secrets.revoked}`],
    ["8 KB token", `Bearer cairn_${"A".repeat(8_000)}`],
  ] as const;

  for (const route of guarded) {
    it(`${route.method} ${route.path} refuses bad credentials with 401`, async () => {
      for (const [label, header] of badHeaders) {
        const value = typeof header === "function" ? header() : header;
        expect(await status(route, value), label).toBe(401);
      }
    });

    it(`${route.method} ${route.path} refuses a token in the query string, even a valid one`, async () => {
      expect(await status(route, `Bearer ${secrets.admin}`, `?access_token=${secrets.admin}`)).toBe(
        401,
      );
      expect(await status(route, `Bearer ${secrets.admin}`, `?x=${secrets.admin}`)).toBe(401);
    });

    it(`${route.method} ${route.path} admits its role and stronger ones`, async () => {
      const allowed =
        route.policy === "viewer"
          ? ["viewer", "operator", "admin"]
          : route.policy === "operator"
            ? ["operator", "admin"]
            : ["admin"];
      for (const role of allowed) {
        const code = await status(route, `Bearer ${secrets[role as "admin"]}`);
        expect([401, 403], `${role}: ${code}`).not.toContain(code);
        expect(code, role).toBeLessThan(500);
      }
    });
  }

  for (const route of operatorRoutes) {
    it(`${route.method} ${route.path} refuses a viewer with 403`, async () => {
      expect(await status(route, `Bearer ${secrets.viewer}`)).toBe(403);
    });
  }

  for (const route of guarded.filter((r) => r.policy === "admin")) {
    it(`${route.method} ${route.path} refuses an operator with 403`, async () => {
      expect(await status(route, `Bearer ${secrets.operator}`)).toBe(403);
    });
  }

  it("answers a 1 MB Authorization header with 431 at the HTTP layer, and the app with 401", async () => {
    const huge = `Bearer ${"A".repeat(1024 * 1024)}`;
    const res = await rawRequest(h.url, { path: "/api/v1/runs", headers: { Authorization: huge } });
    expect(res.status).toBe(431);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(res.body)).toMatchObject({ code: "headers_too_large" });
    const app = createApp(h.cairn);
    expect((await app.request("/api/v1/runs", { headers: { Authorization: huge } })).status).toBe(
      401,
    );
    expect((await h.fetch("/healthz")).status).toBe(200);
  });

  it("says what is wrong in a problem document with a WWW-Authenticate challenge", async () => {
    const res = await h.fetch("/api/v1/runs");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="cairn"');
    expect(await json(res)).toMatchObject({ status: 401, code: "missing_token" });
    const forbidden = await h.post("/api/v1/runs/auth-run/cancel", undefined, {
      Authorization: `Bearer ${secrets.viewer}`,
    });
    expect((await json<{ detail: string }>(forbidden)).detail).toContain("needs operator");
  });

  it("HEAD is a GET: the same policy applies", async () => {
    expect((await h.fetch("/api/v1/runs", { method: "HEAD" })).status).toBe(401);
    const ok = await h.fetch("/api/v1/runs", {
      method: "HEAD",
      headers: { Authorization: `Bearer ${secrets.viewer}` },
    });
    expect(ok.status).toBe(200);
  });

  it("keeps public routes public", async () => {
    for (const path of ["/healthz", "/readyz", "/api/openapi.json", "/api/docs"]) {
      expect((await h.fetch(path)).status, path).toBe(200);
    }
  });

  it("a cookie is no credential", async () => {
    const res = await h.post(
      "/api/v1/runs",
      { workflow: "echo" },
      { Cookie: `session=${secrets.admin}` },
    );
    expect(res.status).toBe(401);
  });
});

describe("auth off: loopback and no token", () => {
  let open: Harness;
  beforeAll(async () => {
    open = await startHarness();
  });
  afterAll(async () => {
    await open.close();
  });

  it("lets every request through as admin, but still checks Host and presented tokens", async () => {
    expect((await open.fetch("/api/v1/runs")).status).toBe(200);
    expect((await open.post("/api/v1/runs", { workflow: "echo", input: 1 })).status).toBe(201);
    expect(
      (await open.fetch("/api/v1/runs", { headers: { Authorization: "Bearer junk" } })).status,
    ).toBe(401);
    const evil = await rawRequest(open.url, {
      path: "/api/v1/runs",
      headers: { Host: "evil.example" },
    });
    expect(evil.status).toBe(403);
  });

  it("turns auth on with the first token, at once", async () => {
    const { secret, id } = await createToken(open.tokens, open.clock, {
      name: "first",
      role: "viewer",
    });
    expect((await open.fetch("/api/v1/runs")).status).toBe(401);
    expect(
      (await open.fetch("/api/v1/runs", { headers: { Authorization: `Bearer ${secret}` } })).status,
    ).toBe(200);
    await revokeToken(open.tokens, open.clock, id);
    expect((await open.fetch("/api/v1/runs")).status).toBe(200);
  });

  it("requires auth when listening beyond loopback, even without tokens", async () => {
    const app = createApp(open.cairn, { host: "0.0.0.0" });
    expect((await app.request("/api/v1/runs")).status).toBe(401);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});

describe("token helpers", () => {
  it("create returns the secret once; list never shows it; revoke works by id or unique name", async () => {
    const created = await createToken(h.tokens, h.clock, { name: "ci", role: "operator" });
    expect(created.secret).toMatch(/^cairn_[A-Za-z0-9_-]{43}$/);
    const listed = await listTokens(h.tokens);
    const row = listed.find((t) => t.id === created.id);
    expect(row).toMatchObject({ name: "ci", role: "operator", revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(JSON.stringify(listed)).not.toMatch(/[0-9a-f]{64}/); // nor its hash
    expect(await revokeToken(h.tokens, h.clock, "ci")).toBe(true);
    expect(await revokeToken(h.tokens, h.clock, "ci")).toBe(false);
    await createToken(h.tokens, h.clock, { name: "twin", role: "viewer" });
    await createToken(h.tokens, h.clock, { name: "twin", role: "viewer" });
    await expect(revokeToken(h.tokens, h.clock, "twin")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(
      createToken(h.tokens, h.clock, { name: "x", role: "root" as "admin" }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
