import { FlowFileWriter } from "./flow-file-writer.ts";
import { resolveWebhooks, type WebhookOptions } from "./resolve-webhooks.ts";
import type { ServerLogger } from "./server-logger.ts";
import type { ReadinessOptions } from "./store-readiness.ts";
import type { TokenStore } from "./token-store.ts";
import type { WebhookConfig } from "./webhook-verifier.ts";

/** What the server logs through: pino, or anything with the same four methods. */
export type { ServerLogger } from "./server-logger.ts";

export interface ServerOptions {
  /** Host to listen on. (Default: "127.0.0.1") */
  host?: string;
  /** Port. (Default: 7420; 0 = any free port) */
  port?: number;
  /** Largest request body in bytes. (Default: 2 MiB) */
  bodyLimitBytes?: number;
  /** Extra hosts allowed in the Host header besides loopback names and the listen address. */
  allowedHosts?: string[];
  /** Origins allowed to make cross-site calls (CORS). (Default: none) */
  allowedOrigins?: string[];
  /**
   * Webhooks by hook name (POST /api/v1/hooks/{name}): a secret, a list of secrets (key
   * rotation), or `{ scheme, secrets, toleranceSeconds }` for another signature scheme.
   */
  webhooks?: Record<string, WebhookOptions>;
  /**
   * Where the API tokens live. (Default: the engine's store's own `tokens`, which the bundled
   * SQLite and PostgreSQL stores have)
   */
  tokens?: TokenStore;
  /** pino logger (or any with info/warn/error/child). (Default: logs nothing) */
  logger?: ServerLogger;
  /**
   * How often the event stream looks for changes made by other processes, in ms; the end of
   * a run that the store announces is looked for at once. (Default: 500)
   */
  streamPollMs?: number;
  /** Interval of the event stream's keep-alive comments, in ms. (Default: 15_000) */
  streamHeartbeatMs?: number;
  /**
   * An event stream whose client lets more than this many bytes of updates wait unsent is
   * dropped (it reconnects and re-reads state). (Default: 4 MiB)
   */
  streamMaxBufferedBytes?: number;
  /**
   * An event stream whose client reads nothing for this long while updates wait for it is
   * dropped, in ms. (Default: 60_000)
   */
  streamIdleTimeoutMs?: number;
  /** When `/readyz` says the store cannot write (see `store-readiness.ts`). */
  readiness?: ReadinessOptions;
  /** Flow files loaded by `cairn dev`: the web editor saves edits of their flows back to them. */
  flowFiles?: readonly string[];
  /**
   * The web UI at `/`: false turns it off, a string is the folder of a UI build.
   * (Default: the `dist/ui` shipped with the package)
   */
  ui?: boolean | string;
  /**
   * The server has its process to itself: no application code runs beside it, as in
   * `cairn server`. It may then replace the process's global `Request` and `Response` with
   * @hono/node-server's lighter ones, which write an answer without building a web
   * `Response` first: a sixth of the server's CPU per started run. Code sharing the process
   * would get those classes too, so the default leaves the globals alone. (Default: false)
   */
  dedicatedProcess?: boolean;
}

/** Options with their defaults applied; what the app's parts read. */
export interface ResolvedOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
  allowedHosts: string[];
  allowedOrigins: string[];
  webhooks: Map<string, WebhookConfig>;
  logger: ServerLogger;
  streamPollMs: number;
  streamHeartbeatMs: number;
  streamMaxBufferedBytes: number;
  streamIdleTimeoutMs: number;
  flowFiles: FlowFileWriter;
  ui: boolean | string;
}

export const defaultPort = 7420;
export const defaultBodyLimitBytes = 2 * 1024 * 1024;

const silentLogger: ServerLogger = {
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/** @throws TypeError when an option is malformed: a server must not start half-configured. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const bodyLimitBytes = options.bodyLimitBytes ?? defaultBodyLimitBytes;
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new TypeError(`bodyLimitBytes must be a positive integer, got ${bodyLimitBytes}.`);
  }
  const port = options.port ?? defaultPort;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${port}.`);
  }
  const webhooks = resolveWebhooks(options.webhooks ?? {});
  return {
    host: options.host ?? "127.0.0.1",
    port,
    bodyLimitBytes,
    allowedHosts: (options.allowedHosts ?? []).map(normalizeHostname),
    allowedOrigins: (options.allowedOrigins ?? []).map((o) => o.replace(/\/+$/, "").toLowerCase()),
    webhooks,
    logger: options.logger ?? silentLogger,
    streamPollMs: options.streamPollMs ?? 500,
    streamHeartbeatMs: options.streamHeartbeatMs ?? 15_000,
    streamMaxBufferedBytes: positive(
      "streamMaxBufferedBytes",
      options.streamMaxBufferedBytes ?? 4 * 1024 * 1024,
    ),
    streamIdleTimeoutMs: positive("streamIdleTimeoutMs", options.streamIdleTimeoutMs ?? 60_000),
    flowFiles: new FlowFileWriter(options.flowFiles ?? []),
    ui: options.ui ?? true,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer, got ${value}.`);
  }
  return value;
}

/**
 * The host name of a Host header or address, lower-cased, without port, brackets or a
 * trailing dot: `[::1]:7420` → `::1`, `Example.COM.:80` → `example.com`.
 */
export function normalizeHostname(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) {
    const end = name.indexOf("]");
    name = end === -1 ? name : name.slice(1, end);
  } else if (name.split(":").length === 2) {
    name = name.slice(0, name.indexOf(":"));
  }
  return name.replace(/\.$/, "");
}

/** True for names and addresses that only reach this machine. */
export function isLoopbackHost(host: string): boolean {
  const name = normalizeHostname(host);
  return (
    name === "localhost" ||
    name === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}
