import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { apiRoute } from "../api-route.ts";
import { StreamQuery } from "../schemas.ts";
import type { StreamUpdate } from "../stream-hub.ts";

// A client this far behind is dropped (it reconnects and re-reads state) rather than
// buffered without bound.
const maxQueued = 10_000;

export const streamUpdates = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/stream",
    tags: ["stream"],
    summary: "Server-sent events of run and step updates",
    description:
      "`event: run` and `event: step` messages with a JSON `data` line, and `: heartbeat` comments. Local engine events arrive at once; runs changed by other processes are found by a poll (about every 500 ms). With `?run=<id>`, only that run's updates, starting with its current status (404 if it does not exist).",
    request: { query: StreamQuery },
    responses: {
      200: {
        description: "The event stream",
        content: { "text/event-stream": { schema: z.string() } },
      },
    },
  }),
  handler:
    ({ cairn, hub, options, tokenWatch }) =>
    async (c) => {
      const { run } = c.req.valid("query");
      const queue: StreamUpdate[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      const end = () => {
        ended = true;
        wake?.();
      };
      // Subscribe before reading the run's state so no change falls between the two.
      const unsubscribe = hub.subscribe((update) => {
        if (run !== undefined && update.runId !== run) return;
        if (queue.length >= maxQueued) return end();
        queue.push(update);
        wake?.();
      }, end);
      const principal = c.get("principal");
      const unwatch = principal.id === "local" ? () => {} : tokenWatch.watch(principal.id, end);
      try {
        if (run !== undefined) {
          const info = await cairn.getRun(run);
          queue.unshift({
            type: "run",
            runId: info.id,
            workflow: info.workflow,
            status: info.status,
            at: new Date(cairn.clock.now()).toISOString(),
            ...(info.error
              ? { error: { name: info.error.name, message: info.error.message } }
              : {}),
          });
        }
      } catch (error) {
        unsubscribe();
        unwatch();
        throw error;
      }
      return streamSSE(c, async (stream) => {
        let heartbeatDue = false;
        const heartbeat = setInterval(() => {
          heartbeatDue = true;
          wake?.();
        }, options.streamHeartbeatMs);
        stream.onAbort(end);
        let id = 0;
        try {
          await stream.write("retry: 2000\n: connected\n\n");
          while (!ended && !stream.aborted) {
            const update = queue.shift();
            if (update) {
              await stream.writeSSE({
                event: update.type,
                data: JSON.stringify(update),
                id: String(++id),
              });
            } else if (heartbeatDue) {
              heartbeatDue = false;
              await stream.write(": heartbeat\n\n");
            } else {
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              wake = undefined;
            }
          }
        } finally {
          clearInterval(heartbeat);
          unsubscribe();
          unwatch();
        }
      });
    },
});
