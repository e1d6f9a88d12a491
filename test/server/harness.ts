import { request as httpRequest } from "node:http";
import type { Readable } from "node:stream";
import type { AnyWorkflow, Cairn } from "../../src/index.ts";
import {
  type RunningServer,
  type ServerLogger,
  type ServerOptions,
  startServer,
} from "../../src/server/index.ts";
import type { TokenStore } from "../../src/server/token-store.ts";
import { createTestCairn, type TestClock } from "../../src/testing/index.ts";
import { testCairn, testStore } from "../support/engine.ts";
import { tokensOf } from "../support/tokens-of.ts";
import { testWorkflows } from "./workflows.ts";

/** An engine for the server tests; one per store the suite runs against. */
export interface TestEngine {
  cairn: Cairn;
  clock: TestClock;
  /** The database URL, for a second engine on the same data ("another process"). */
  db: string;
  close(): Promise<void>;
}

export type EngineFactory = (workflows: readonly AnyWorkflow[]) => Promise<TestEngine>;

/** SQLite on a temporary file with a worker and a TestClock. */
export const sqliteEngine: EngineFactory = async (workflows) => {
  const t = await createTestCairn({ workflows: [...workflows] });
  return { cairn: t.cairn, clock: t.clock, db: `sqlite:${t.path}`, close: () => t.close() };
};

/** PostgreSQL: a fresh schema of the test database, dropped on close. */
export const postgresEngine: EngineFactory = async (workflows) => {
  const t = await testCairn({ workflows: [...workflows] });
  return { cairn: t.cairn, clock: t.clock, db: t.db, close: () => t.close() };
};

/** The engine the suite runs on: `CAIRN_TEST_STORE=postgres` (the vitest "postgres" project) or SQLite. */
export function engineFactory(): EngineFactory {
  return testStore === "postgres" ? postgresEngine : sqliteEngine;
}

export interface Harness extends TestEngine {
  server: RunningServer;
  /** The API tokens the server checks (its store's). */
  tokens: TokenStore;
  url: string;
  /** `fetch` relative to the server's URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST a JSON body. */
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/**
 * The server's errors go to stderr: a test that meets a 500 then shows its cause, which the
 * response only names by request id.
 */
const errorsToStderr: ServerLogger = {
  info() {},
  warn() {},
  error(obj, msg) {
    console.error(`server: ${msg ?? "error"}`, obj);
  },
  child: () => errorsToStderr,
};

/** A real server on a free port over a fresh engine. */
export async function startHarness(
  options: {
    workflows?: readonly AnyWorkflow[];
    server?: ServerOptions;
    engine?: EngineFactory;
  } = {},
): Promise<Harness> {
  const engine = await (options.engine ?? engineFactory())(options.workflows ?? testWorkflows);
  const tokens = tokensOf(engine.cairn);
  const server = await startServer(engine.cairn, {
    tokens,
    port: 0,
    logger: errorsToStderr,
    ...options.server,
  });
  const fetchPath = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);
  return {
    ...engine,
    server,
    tokens,
    url: server.url,
    fetch: fetchPath,
    post: (path, body, headers = {}) =>
      fetchPath(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    async close() {
      await server.close();
      await engine.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request with full control over what goes on the wire (the path unnormalized, any Host
 * header, a streamed body), which `fetch` does not give.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer | Readable;
    /** A connection of its own, closed after the answer (no keep-alive reuse). */
    fresh?: boolean;
  },
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const headers = { ...options.headers };
  const body = options.body;
  // Node's client sends a GET body without framing unless told its length.
  if (
    (typeof body === "string" || Buffer.isBuffer(body)) &&
    !Object.keys(headers).some((k) => /^content-length$/i.test(k))
  ) {
    headers["Content-Length"] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(
      {
        host: hostname,
        port,
        method: options.method ?? "GET",
        path: options.path,
        headers,
        ...(options.fresh ? { agent: false } : {}),
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        res.on("end", done);
        res.on("close", done);
        res.on("error", done);
      },
    );
    // The server may answer (413) and close while the body is still going out: the answer
    // is what counts, a write error after it is expected.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (body === undefined) req.end();
    else if (typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
    else {
      body.on("error", () => {});
      body.pipe(req);
    }
  });
}

export const json = async <T = Record<string, unknown>>(res: Response): Promise<T> =>
  (await res.json()) as T;

/** Polls `check` until it returns a value other than undefined (real time). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
