import { createRoute, z } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { HttpProblem } from "../problems.ts";
import { HealthStatus } from "../schemas.ts";

const healthContent = { "application/json": { schema: HealthStatus } };
const probeTimeoutMs = 2_000;

export const healthz = apiRoute({
  policy: "public",
  route: createRoute({
    method: "get",
    path: "/healthz",
    tags: ["operations"],
    summary: "Liveness: the process is up",
    responses: { 200: { description: "Up", content: healthContent } },
  }),
  handler: () => async (c) => c.json({ status: "ok" }, 200),
});

export const readyz = apiRoute({
  policy: "public",
  route: createRoute({
    method: "get",
    path: "/readyz",
    tags: ["operations"],
    summary: "Readiness: the store takes writes and the server is not shutting down",
    responses: { 200: { description: "Ready", content: healthContent } },
  }),
  handler:
    ({ cairn, health, options, readiness }) =>
    async (c) => {
      if (!health.ready)
        throw new HttpProblem("not_ready", "The server is not ready or is shutting down.");
      if (!readiness.ready) {
        throw new HttpProblem("not_ready", "The store does not take writes (see the server log).");
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        // A primary-key lookup of an id that never exists: proves a round trip, costs nothing.
        await Promise.race([
          cairn.store.getRun("cairn-readiness-probe" as never),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer in ${probeTimeoutMs} ms`)),
              probeTimeoutMs,
            );
          }),
        ]);
      } catch (error) {
        // The reason (host names, file paths) goes to the log, not to anonymous callers.
        options.logger.warn({ err: error }, "readiness probe failed");
        throw new HttpProblem("not_ready", "The store did not answer the readiness probe.");
      } finally {
        clearTimeout(timer);
      }
      return c.json({ status: "ready" }, 200);
    },
});

export const metrics = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/metrics",
    tags: ["operations"],
    summary: "Prometheus metrics",
    description:
      "Prometheus text exposition. Needs a viewer token when auth is on (Prometheus `authorization` scrape setting), since workflow names and volumes are operational data.",
    responses: {
      200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } },
    },
  }),
  handler:
    ({ metrics }) =>
    async (c) =>
      c.text(await metrics.render(), 200, { "Content-Type": metrics.registry.contentType }),
});
