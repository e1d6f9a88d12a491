import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, rawRequest, startHarness } from "./harness.ts";

/** A UI build of our own, so the test does not depend on `npm run build:ui`. */
const dir = mkdtempSync(join(tmpdir(), "cairn-ui-build-"));
mkdirSync(join(dir, "assets"));
writeFileSync(join(dir, "index.html"), "<!doctype html><title>Cairn test UI</title>");
writeFileSync(join(dir, "assets/index-abc123.js"), "console.log(1)");
writeFileSync(join(dir, "assets/index-abc123.css"), "body{}");
writeFileSync(join(dir, "favicon.svg"), "<svg/>");

let h: Harness;
let off: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { ui: dir } });
  off = await startHarness({ server: { ui: false } });
});
afterAll(async () => {
  await h?.close();
  await off?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("web UI assets", () => {
  it("serves hashed assets with their type, cached for a year", async () => {
    const js = await h.fetch("/assets/index-abc123.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toBe("console.log(1)");
    const css = await h.fetch("/assets/index-abc123.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const icon = await h.fetch("/favicon.svg");
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("answers client-side routes with index.html, never cached, under a strict CSP", async () => {
    for (const path of ["/", "/runs", "/runs/order-1", "/workflows/a%20b?x=1"]) {
      const res = await h.fetch(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(await res.text()).toContain("Cairn test UI");
    }
  });

  it("keeps the JSON 404 for API paths, missing files and other methods", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1/nope"],
      ["GET", "/api"],
      ["GET", "/assets/missing.js"],
      ["POST", "/runs"],
      ["GET", "/../package.json"],
      ["GET", "/%2e%2e/%2e%2e/package.json"],
    ] as const) {
      const res = await h.fetch(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type"), path).toBe("application/problem+json");
    }
  });

  it("keeps the Host check in front of the UI", async () => {
    const res = await rawRequest(h.url, { path: "/runs", headers: { Host: "evil.example" } });
    expect(res.status).toBe(403);
    expect(res.body).toContain("evil.example");
  });

  it("is off with ui: false", async () => {
    const res = await off.fetch("/runs");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});
