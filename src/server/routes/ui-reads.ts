import { createRoute } from "@hono/zod-openapi";
import { deserialize } from "../../core/serializer.ts";
import type { RunId } from "../../core/types.ts";
import { userWorkflowNames } from "../../engine/built-in-workflows.ts";
import { apiRoute } from "../api-route.ts";
import { decodeCursor, encodeCursor } from "../cursor.ts";
import { EventPage, EventQuery, WorkerList } from "../schemas-ui.ts";
import { payloadWire } from "../wire.ts";

export const listEvents = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/events",
    tags: ["events"],
    summary: "Recent events and what they started or woke",
    description:
      "Accepted events, newest first, each with the runs its triggers started and the waiting runs it woke. Keyset pagination with `cursor` = the previous `nextCursor`.",
    request: { query: EventQuery },
    responses: {
      200: {
        description: "A page of events",
        content: { "application/json": { schema: EventPage } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const query = c.req.valid("query");
      const limit = query.limit ?? 50;
      const rows = await cairn.store.listEvents({
        limit: limit + 1,
        ...(query.name === undefined ? {} : { name: query.name }),
        ...(query.cursor === undefined ? {} : { before: decodeCursor(query.cursor) }),
      });
      const page = rows.slice(0, limit);
      const links = await cairn.store.eventRuns.list(page.map((e) => e.id));
      const events = page.map((event) => {
        const link = links.get(event.id) ?? { started: [], woke: [] };
        return {
          id: event.id,
          name: event.name,
          ...payloadWire(deserialize(event.data), "data"),
          receivedAt: new Date(event.createdAt).toISOString(),
          started: link.started,
          woke: link.woke,
        };
      });
      const last = page.at(-1);
      const nextCursor =
        rows.length > limit && last
          ? encodeCursor({ createdAt: last.createdAt, id: last.id as RunId })
          : null;
      return c.json({ events, nextCursor }, 200);
    },
});

export const listWorkers = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/workers",
    tags: ["operations"],
    summary: "Live workers",
    description:
      "Worker processes whose heartbeat is recent (a worker missing three beats drops out), with their queues, workflows and the runs they hold a lease on.",
    responses: {
      200: {
        description: "The live workers",
        content: { "application/json": { schema: WorkerList } },
      },
    },
  }),
  handler:
    ({ cairn }) =>
    async (c) => {
      const workers = (await cairn.store.workers.list(cairn.clock.now())).map((w) => ({
        id: w.id,
        host: w.host,
        pid: w.pid,
        queues: w.queues,
        workflows: userWorkflowNames(w.workflows),
        concurrency: w.concurrency,
        startedAt: new Date(w.startedAt).toISOString(),
        lastSeenAt: new Date(w.lastSeenAt).toISOString(),
        runs: w.runs,
      }));
      return c.json({ workers }, 200);
    },
});
