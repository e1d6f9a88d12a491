import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { RunId } from "../../core/types.ts";
import { apiRoute } from "../api-route.ts";
import { StreamQuery } from "../schemas.ts";
import type { StreamUpdate } from "../stream-hub.ts";

/** An update waiting for its stream's client: the SSE event name and its JSON. */
interface Frame {
  event: string;
  json: string;
}

/** The socket under a response served by `@hono/node-server` (absent under `app.request`). */
function socketOf(env: unknown): { destroy(): void } | undefined {
  return (env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
}

export const streamUpdates = apiRoute({
  policy: "viewer",
  route: createRoute({
    method: "get",
    path: "/api/v1/stream",
    tags: ["stream"],
    summary: "Server-sent events of run and step updates",
    description:
      "`event: run` and `event: step` messages with a JSON `data` line, and `: heartbeat` comments. Local engine events arrive at once; runs changed by other processes are found by a poll (about every 500 ms, and within milliseconds of a run's end that the database announces). With `?run=<id>`, only that run's updates, starting with its current status (404 if it does not exist).",
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
      const { logger, streamMaxBufferedBytes, streamIdleTimeoutMs } = options;
      // Updates not yet written; a client that does not read lets them pile up, so past a
      // byte cap, or when nothing it was sent is taken for the idle timeout, it is dropped
      // (it reconnects and re-reads state) rather than buffered without bound.
      const queue: Frame[] = [];
      let queuedBytes = 0;
      let writingSince: number | undefined;
      let wake: (() => void) | undefined;
      let ended = false;
      const end = () => {
        ended = true;
        wake?.();
      };
      const drop = (reason: string) => {
        if (ended) return;
        logger.info(
          { queuedBytes, queued: queue.length },
          `event stream client dropped: ${reason}`,
        );
        end();
        // A write the client never takes would hold the stream open: cut the socket.
        socketOf(c.env)?.destroy();
      };
      const enqueue = (frame: Frame) => {
        queue.push(frame);
        queuedBytes += frame.json.length;
        if (queuedBytes > streamMaxBufferedBytes) {
          drop(`more than ${streamMaxBufferedBytes} bytes of updates unsent`);
        } else wake?.();
      };
      // Subscribe before reading the run's state so no change falls between the two.
      const unsubscribe = hub.subscribe(
        (update, json) => {
          if (run !== undefined && update.runId !== run) return;
          enqueue({ event: update.type, json });
        },
        end,
        run,
      );
      const principal = c.get("principal");
      const unwatch = principal.id === "local" ? () => {} : tokenWatch.watch(principal.id, end);
      try {
        if (run !== undefined) {
          // Before the read: the run's end, if it comes after, is announced to this process.
          await cairn.ends.watch(run as RunId);
          const info = await cairn.getRun(run);
          const current: StreamUpdate = {
            type: "run",
            runId: info.id,
            workflow: info.workflow,
            status: info.status,
            at: new Date(cairn.clock.now()).toISOString(),
            ...(info.error
              ? { error: { name: info.error.name, message: info.error.message } }
              : {}),
          };
          queue.unshift({ event: current.type, json: JSON.stringify(current) });
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
        const idleCheck = setInterval(
          () => {
            if (writingSince !== undefined && Date.now() - writingSince > streamIdleTimeoutMs) {
              drop(`read nothing for ${streamIdleTimeoutMs} ms`);
            }
          },
          Math.max(10, Math.floor(streamIdleTimeoutMs / 4)),
        );
        idleCheck.unref();
        stream.onAbort(end);
        // Resolves once the client's side has taken the text (backpressure reaches here).
        const write = async (text: string) => {
          writingSince = Date.now();
          await stream.write(text);
          writingSince = undefined;
        };
        let id = 0;
        try {
          await write("retry: 2000\n: connected\n\n");
          while (!ended && !stream.aborted) {
            const frame = queue.shift();
            if (frame) {
              queuedBytes -= frame.json.length;
              // JSON has no raw line breaks, so the data fits one `data:` line.
              await write(`event: ${frame.event}\ndata: ${frame.json}\nid: ${++id}\n\n`);
            } else if (heartbeatDue) {
              heartbeatDue = false;
              await write(": heartbeat\n\n");
            } else {
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
              wake = undefined;
            }
          }
        } finally {
          clearInterval(heartbeat);
          clearInterval(idleCheck);
          unsubscribe();
          unwatch();
        }
      });
    },
});
