import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ZodType } from "zod";
import { routeTable } from "../../src/server/index.ts";
import { type Harness, startHarness } from "./harness.ts";

/**
 * Requests generated from the server's own OpenAPI document, valid and
 * mutated, must never get a 5xx or crash the server; every answer matches its schema.
 * Replay a failure with SEED=<seed printed below>.
 */

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  maxLength?: number;
  minimum?: number;
  maximum?: number;
};
type Parameter = { name: string; in: "path" | "query"; schema: Schema };
type Operation = {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
};
type Generated = {
  operation: Operation;
  path: string;
  headers: Record<string, string>;
  body?: string;
};

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const numRuns = Number(process.env.FUZZ_RUNS ?? 2000);

const workflowNames = [
  "greet",
  "echo",
  "gated",
  "approval",
  "declined",
  "flaky",
  "on-push",
  "nope",
];
const knownIds = ["fuzz-seed", "fuzz-waiting", "missing", ""];

/** Strings that tend to break things: ids, traversal, control characters, long runs. */
const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...workflowNames, ...knownIds) },
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "../../etc/passwd",
    "%00",
    "'; DROP TABLE runs;--",
    "\u0000",
    "\ud800",
    "🚀",
    "a/b",
    "..",
    "%2e%2e",
  ),
  fc.integer({ min: 250, max: 12_000 }).map((n) => "x".repeat(n)),
);

const anyJson = fc.jsonValue({ maxDepth: 3 });

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Percent-encodes; a lone surrogate (not encodable) becomes its invalid UTF-8 bytes. */
function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return `${encodeURIComponent(value.replace(loneSurrogate, ""))}%ED%A0%80`;
  }
}

function arbitraryFor(
  schema: Schema,
  components: Record<string, Schema>,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.$ref) {
    const name = schema.$ref.split("/").at(-1) ?? "";
    return arbitraryFor(components[name] ?? {}, components, depth);
  }
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), nastyString);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((s) => arbitraryFor(s, components, depth)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return nastyString;
    case "integer":
    case "number":
      return fc.oneof(fc.integer({ min: -5, max: 500 }), fc.double(), fc.constant(1e300));
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(arbitraryFor(schema.items ?? {}, components, depth + 1), { maxLength: 3 });
    case "object": {
      if (!schema.properties || depth > 2)
        return fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 });
      const entries = Object.entries(schema.properties).map(
        ([key, s]) => [key, arbitraryFor(s, components, depth + 1)] as const,
      );
      return fc.record(Object.fromEntries(entries), {
        requiredKeys: schema.required?.filter((k) => k in (schema.properties ?? {})) ?? [],
      });
    }
    default:
      return anyJson;
  }
}

/** Breaks a valid body in one of the ways clients (and attackers) do. */
const bodyMutation = fc.constantFrom(
  "none",
  "none",
  "none",
  "drop-field",
  "extra-field",
  "wrong-type",
  "any-json",
  "garbage",
  "deep",
  "huge",
  "wrong-content-type",
  "empty",
);

function operationsOf(doc: {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }
    >
  >;
}): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      ...(op.requestBody ? { body: op.requestBody.content["application/json"]?.schema ?? {} } : {}),
    })),
  );
}

function requestArbitrary(
  operations: Operation[],
  components: Record<string, Schema>,
): fc.Arbitrary<Generated> {
  return fc.constantFrom(...operations).chain((operation) => {
    const pathParams = operation.parameters.filter((p) => p.in === "path");
    const queryParams = operation.parameters.filter((p) => p.in === "query");
    return fc
      .record({
        path: fc.tuple(...pathParams.map(() => fc.tuple(nastyString, fc.boolean()))),
        query: fc.tuple(
          ...queryParams.map((p) =>
            fc.option(arbitraryFor(p.schema, components), { nil: undefined }),
          ),
        ),
        body: operation.body ? arbitraryFor(operation.body, components) : fc.constant(undefined),
        mutation: bodyMutation,
        victim: fc.string({ maxLength: 10 }),
        junk: anyJson,
        header: fc.oneof(
          { weight: 9, arbitrary: fc.constant(undefined) },
          {
            weight: 1,
            arbitrary: fc.constantFrom("Bearer junk", "Bearer ", "Basic x", "x".repeat(300)),
          },
        ),
      })
      .map(({ path, query, body, mutation, victim, junk, header }) => {
        let url = operation.path;
        pathParams.forEach((p, i) => {
          const [value, encode] = path[i] ?? ["x", true];
          url = url.replace(
            `{${p.name}}`,
            encode ? encodeSegment(value) : value.replace(/[/?#%\s]/g, "_"),
          );
        });
        const search = new URLSearchParams();
        queryParams.forEach((p, i) => {
          const value = query[i];
          if (value !== undefined)
            search.set(p.name, typeof value === "string" ? value : JSON.stringify(value));
        });
        if (search.size > 0) url += `?${search}`;
        const headers: Record<string, string> = {};
        if (header !== undefined) headers.Authorization = header;
        if (operation.method === "GET") return { operation, path: url, headers };
        headers["Content-Type"] = "application/json";
        let value: unknown = body;
        if (value && typeof value === "object" && !Array.isArray(value)) {
          const record = { ...(value as Record<string, unknown>) };
          const keys = Object.keys(record);
          if (mutation === "drop-field" && keys[0]) delete record[keys[0]];
          if (mutation === "extra-field") record[victim || "extra"] = junk;
          if (mutation === "wrong-type" && keys[0]) record[keys[0]] = junk;
          value = record;
        }
        if (mutation === "any-json") value = junk;
        let text = value === undefined ? undefined : JSON.stringify(value);
        if (mutation === "garbage") text = `{${victim}`;
        if (mutation === "deep")
          text = `{"workflow":"echo","input":${"[".repeat(70)}${"]".repeat(70)}}`;
        if (mutation === "huge")
          text = JSON.stringify({ workflow: "echo", input: "h".repeat(300_000) });
        if (mutation === "wrong-content-type") headers["Content-Type"] = "text/plain";
        if (mutation === "empty") text = "";
        return { operation, path: url, headers, ...(text === undefined ? {} : { body: text }) };
      });
  });
}

/** The zod schema a route declares for a status, if it declares one for JSON. */
function responseSchema(operation: Operation, status: number): ZodType | undefined {
  const route = routeTable.find((r) => r.method === operation.method && r.path === operation.path);
  const response = route?.config.responses[status] as
    | { content?: Record<string, { schema?: ZodType }> }
    | undefined;
  return response?.content?.["application/json"]?.schema;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { webhooks: { fuzz: "whsec_fuzz" } } });
  await h.post("/api/v1/runs", { workflow: "echo", input: 1, id: "fuzz-seed" });
  await h.post("/api/v1/runs", { workflow: "gated", id: "fuzz-waiting" });
});
afterAll(async () => {
  await h.close();
});

describe("API fuzz (Q-F1)", () => {
  it(`${numRuns} generated and mutated requests: no 5xx, every answer matches its schema (SEED=${seed})`, async () => {
    const doc = (await (await h.fetch("/api/openapi.json")).json()) as Parameters<
      typeof operationsOf
    >[0] & {
      components: { schemas: Record<string, Schema> };
    };
    const operations = operationsOf(doc);
    expect(operations.length).toBe(routeTable.length);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArbitrary(operations, doc.components.schemas), async (request) => {
        const abort = new AbortController();
        const res = await h.fetch(request.path, {
          method: request.operation.method,
          headers: request.headers,
          signal: abort.signal,
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const where = `${request.operation.method} ${request.path.slice(0, 120)}`;
        expect(res.status, where).toBeLessThan(500);
        const type = res.headers.get("content-type") ?? "";
        if (type.startsWith("text/event-stream")) return abort.abort(); // an open stream
        const text = await res.text();
        if (res.status >= 400) {
          expect(type, where).toBe("application/problem+json");
          const problem = JSON.parse(text) as { status: number; code: string; detail: string };
          expect(problem.status, where).toBe(res.status);
          expect(problem.code, where).toMatch(/^[A-Za-z_]+$/);
          expect(problem.detail, where).not.toMatch(/\n\s+at /); // no stack trace
          return;
        }
        const schema = responseSchema(request.operation, res.status);
        if (schema && type.startsWith("application/json")) {
          const parsed = schema.safeParse(JSON.parse(text));
          expect(parsed.success, `${where}: ${parsed.error?.message}`).toBe(true);
        }
      }),
      { numRuns, seed, endOnFailure: true },
    );
    console.info(
      `fuzz SEED=${seed} requests=${numRuns} statuses=${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // The generator must reach handlers, not only validation errors.
    const reached = [...statuses.keys()].filter((s) => s < 300).length;
    expect(reached, JSON.stringify(Object.fromEntries(statuses))).toBeGreaterThanOrEqual(2);
    expect((await h.fetch("/healthz")).status).toBe(200);
  }, 60_000);
});
