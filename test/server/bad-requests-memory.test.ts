import { describe, expect, inject, it } from "vitest";
import { testStore } from "../support/engine.ts";
import { freshSchema } from "../support/postgres.ts";
import { startRssServer } from "./rss-server-process.ts";

const pad = "p".repeat(8 * 1024);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/**
 * Bad requests of many kinds, most of which reach the store before they are refused: unknown
 * runs, workflows, schedules; inputs a schema rejects; malformed JSON, cursors, names and
 * crons. Each carries something distinct (an id, a name), so a cache keyed by what a client
 * sends would grow with them.
 */
const badRequests: ((i: number) => { method: string; path: string; body?: string })[] = [
  (i) => ({ method: "GET", path: `/api/v1/runs/missing-${i}` }),
  (i) => ({ method: "GET", path: `/api/v1/runs?cursor=not-a-cursor-${i}` }),
  (i) => ({ method: "GET", path: `/api/v1/runs?status=bogus-${i}` }),
  (i) => ({
    method: "POST",
    path: "/api/v1/runs",
    body: JSON.stringify({ workflow: `unknown-${i}`, input: pad }),
  }),
  (i) => ({
    method: "POST",
    path: "/api/v1/runs",
    body: JSON.stringify({ workflow: "greet", id: `bad-input-${i}`, input: { name: i, pad } }),
  }),
  (i) => ({
    method: "POST",
    path: `/api/v1/runs/missing-${i}/signals/go`,
    body: JSON.stringify({ payload: pad }),
  }),
  (i) => ({
    method: "POST",
    path: "/api/v1/events",
    body: JSON.stringify({ name: `bad\u0000name-${i}`, data: pad }),
  }),
  (i) => ({
    method: "POST",
    path: "/api/v1/schedules",
    body: JSON.stringify({ workflow: "echo", cron: `${60 + (i % 1000)} * * * *` }),
  }),
  (i) => ({
    method: "POST",
    path: `/api/v1/schedules/missing-${i}/backfill`,
    body: JSON.stringify({ from: "2030-01-01", to: "2030-01-02" }),
  }),
  (i) => ({ method: "POST", path: "/api/v1/runs", body: `{"workflow":"echo","input":"${i}${pad}` }),
];

describe("bad requests leave memory where it was", () => {
  // The server runs in a process of its own, measured after a GC there and after a warm-up
  // (the first requests grow the allocator's arenas and V8's code caches once).
  it("10,000 bad requests grow the server's RSS by less than 50 MB", {
    timeout: 180_000,
  }, async () => {
    const schema =
      testStore === "postgres" ? await freshSchema(inject("cairnTestPgUrl")) : undefined;
    const db = schema
      ? `${schema.url}${schema.url.includes("?") ? "&" : "?"}schema=${schema.schema}`
      : undefined;
    const server = startRssServer(db ? { CAIRN_DB: db } : {});
    const { child, rss } = server;
    try {
      const url = await server.url();
      const statuses = new Map<number, number>();
      const send = async (i: number) => {
        const request = badRequests[i % badRequests.length]?.(i);
        if (!request) return;
        const res = await fetch(`${url}${request.path}`, {
          method: request.method,
          headers: { "Content-Type": "application/json" },
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      };
      // Eight requests in flight at a time, from `from` to `to`.
      const sendAll = async (from: number, to: number) => {
        let i = from;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (i < to) await send(i++);
          }),
        );
      };
      await sendAll(0, 1_000);
      const before = await rss();
      statuses.clear();
      await sendAll(1_000, 11_000);
      const after = await rss();
      console.log(`bad requests on ${testStore}: RSS ${mb(before)} -> ${mb(after)} MB`);
      // Every one was refused as the client's mistake; none was a server error.
      expect([...statuses.keys()].every((s) => s >= 400 && s < 500)).toBe(true);
      expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000);
      expect(after - before).toBeLessThan(50 * 1024 * 1024);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      await schema?.drop();
    }
  });
});
