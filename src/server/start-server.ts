import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Cairn } from "../sdk/cairn.ts";
import { answerClientError } from "./client-error.ts";
import { appLifecycle, createApp } from "./create-app.ts";
import { isLoopbackHost, resolveOptions, type ServerOptions } from "./options.ts";
import { problemBody } from "./problems.ts";
import { serverTokens } from "./token-store.ts";

/** A listening server. */
export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** Stops accepting connections, ends event streams and waits (briefly) for requests in flight. */
  close(): Promise<void>;
  /** What `/readyz` reports; set false before a graceful shutdown so balancers drain it. */
  setReady(ready: boolean): void;
}

// Open requests get this long to finish on close before their sockets are cut.
const closeGraceMs = 5_000;

/**
 * Serves {@link createApp} on `host:port` (default 127.0.0.1:7420). Listening beyond loopback
 * turns auth on: without tokens every API call is then refused, and a warning says so.
 * @example
 * const server = await startServer(cairn, { port: 0 });
 * console.log(`API on ${server.url}`);
 * await server.close();
 */
export async function startServer(
  cairn: Cairn,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const resolved = resolveOptions(options);
  const tokens = serverTokens(options.tokens, cairn.store);
  const app = createApp(cairn, { ...options, tokens });
  const lifecycle = appLifecycle(app);
  if (!lifecycle) throw new Error("createApp returned an app without a lifecycle.");
  const listener = getRequestListener(app.fetch, {
    hostname: resolved.host,
    // Node's own Request/Response stay unless nothing else runs here (see `dedicatedProcess`).
    overrideGlobalObjects: options.dedicatedProcess === true,
    // Requests Node parsed but the adapter cannot turn into a URL (bad Host, bad target).
    errorHandler: () =>
      new Response(
        JSON.stringify(problemBody("invalid_request", "Malformed request target or Host header.")),
        {
          status: 400,
          headers: {
            "Content-Type": "application/problem+json",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer",
          },
        },
      ),
  });
  // Requests in flight; once closing and none are left, every socket can go, including
  // ones a client opened but never used (Node only drops idle sockets that served a request).
  let active = 0;
  let closingDown = false;
  // A slow-loris upload cannot hold a socket for Node's default 5 minutes.
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 20_000 }, (req, res) => {
    active++;
    res.once("close", () => {
      active--;
      if (closingDown && active === 0) server.closeAllConnections();
    });
    void listener(req, res);
  });
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;
  if (!isLoopbackHost(resolved.host) && !(await tokens.anyActive())) {
    resolved.logger.warn(
      { host: resolved.host },
      "listening beyond loopback with no API token: every API call will be refused until one is created (`cairn tokens create`)",
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    setReady(ready) {
      lifecycle.health.ready = ready;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        closingDown = true;
        lifecycle.health.ready = false;
        lifecycle.dispose();
        const force = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        if (active === 0) server.closeAllConnections();
        else server.closeIdleConnections();
      });
      return closing;
    },
  };
}
