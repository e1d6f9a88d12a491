import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { defineWorkflow, NonRetryableError } from "../../src/index.ts";
import type { ServerLogger } from "../../src/server/index.ts";
import { waitForStatus } from "../../src/testing/index.ts";
import { type Harness, startHarness } from "./harness.ts";

// Each failed step's update carries its 64 KiB error: 200 of them are about 13 MB for every
// open stream, more than the kernel buffers a client that does not read (a few MB on
// loopback), so the rest waits in the server for it.
const noisy = defineWorkflow({ name: "noisy" }, async (ctx) => {
  for (let i = 0; i < 200; i++) {
    try {
      await ctx.step(`s${i}`, () => {
        throw new NonRetryableError("x".repeat(64 * 1024));
      });
    } catch {}
  }
  return "done";
});

/** A logger that resolves `dropped` at each "event stream client dropped" line. */
function dropLog() {
  const reasons: string[] = [];
  let notify: (() => void) | undefined;
  const logger: ServerLogger = {
    info(_fields: unknown, message?: string) {
      if (typeof message === "string" && message.startsWith("event stream client dropped")) {
        reasons.push(message);
        notify?.();
      }
    },
    warn() {},
    error() {},
    child: () => logger,
  } as ServerLogger;
  const next = () =>
    new Promise<void>((resolve) => {
      notify = resolve;
    });
  return { logger, reasons, next };
}

/** An event-stream client on a plain TCP socket, to control when it reads. */
function streamClient(url: string): {
  socket: Socket;
  /** Resolves once the text received so far contains `marker`. */
  seen(marker: string): Promise<void>;
  /** Resolves when the server has ended the connection. */
  ended: Promise<void>;
} {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setEncoding("utf8");
  socket.write(
    `GET /api/v1/stream HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  let tail = "";
  const waiters: { marker: string; resolve: () => void }[] = [];
  socket.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-1024);
    for (const w of [...waiters]) {
      if (tail.includes(w.marker)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const ended = new Promise<void>((resolve) => {
    socket.on("close", () => resolve());
    socket.on("error", () => {});
  });
  return {
    socket,
    seen: (marker) =>
      new Promise((resolve) => {
        tail = "";
        waiters.push({ marker, resolve });
      }),
    ended,
  };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function dropsTheClientThatDoesNotRead(server: {
  streamMaxBufferedBytes?: number;
  streamIdleTimeoutMs?: number;
}): Promise<string[]> {
  const drops = dropLog();
  h = await startHarness({
    workflows: [noisy],
    server: { ...server, streamHeartbeatMs: 100, logger: drops.logger },
  });
  const reader = streamClient(h.url);
  const idle = streamClient(h.url);
  await Promise.all([reader.seen(": connected"), idle.seen(": connected")]);
  idle.socket.pause(); // from here on it reads nothing: the kernel buffers fill, then the server's
  const dropped = drops.next();
  const finished = reader.seen('"status":"completed"');
  await h.post("/api/v1/runs", { workflow: "noisy", id: "noisy" });
  await Promise.all([dropped, finished]);
  await waitForStatus(h.cairn, "noisy", "completed");
  // The reader keeps its stream: it still gets heartbeats after the drop.
  await reader.seen(": heartbeat");
  // The one that did not read finds its stream cut once it reads again.
  idle.socket.resume();
  await idle.ended;
  expect(reader.socket.destroyed).toBe(false);
  reader.socket.destroy();
  return drops.reasons;
}

describe("event streams drop clients that do not read", () => {
  it("past the cap on unsent bytes", { timeout: 120_000 }, async () => {
    const reasons = await dropsTheClientThatDoesNotRead({ streamMaxBufferedBytes: 256 * 1024 });
    expect(reasons).toEqual([
      "event stream client dropped: more than 262144 bytes of updates unsent",
    ]);
  });

  it("after the idle timeout with updates waiting", { timeout: 120_000 }, async () => {
    const reasons = await dropsTheClientThatDoesNotRead({
      streamIdleTimeoutMs: 3_000,
      streamMaxBufferedBytes: 64 * 1024 * 1024,
    });
    expect(reasons).toEqual(["event stream client dropped: read nothing for 3000 ms"]);
  });
});
