import { afterAll, describe, expect, it, vi } from "vitest";
import { freshSchema, testDatabaseUrl } from "../../test/support/postgres.ts";
import { PostgresStore } from "./postgres-store.ts";

const url = await testDatabaseUrl();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Polls `probe` until it returns `expected`: the answers' 250 ms age bound is far below the timeout. */
const eventually = <T>(probe: () => Promise<T>, expected: T) =>
  vi.waitFor(async () => expect(await probe()).toBe(expected), { timeout: 10_000, interval: 20 });

const token = (id: string) => ({
  id,
  name: id,
  role: "viewer" as const,
  secretHash: `hash-${id}`,
  createdAt: 1_000,
});

describe("a PostgreSQL store's token reads", () => {
  it("answer a server's per-request checks without a round trip each, and see changes", async () => {
    const schema = await freshSchema(url);
    // Two processes on one database: `server` checks requests, `cli` writes as `cairn tokens` does.
    const server = await PostgresStore.open({ url, schema: schema.schema, max: 2 });
    const cli = await PostgresStore.open({ url, schema: schema.schema, max: 2 });
    cleanups.push(
      schema.drop,
      () => server.close(),
      () => cli.close(),
    );
    const sent: string[] = [];
    server.sql.options.debug = (_connection, query) => {
      if (query.includes("api_tokens")) sent.push(query);
    };

    expect(await server.tokens.anyActive()).toBe(false);
    expect(await server.tokens.anyActive()).toBe(false);
    expect(await server.tokens.findActiveByHash("hash-a")).toBeUndefined();
    expect(await server.tokens.findActiveByHash("hash-a")).toBeUndefined();
    expect(sent).toHaveLength(2);

    // Another process's token takes effect within the answers' age bound.
    await cli.tokens.create(token("a"));
    await eventually(() => server.tokens.anyActive(), true);
    await eventually(async () => (await server.tokens.findActiveByHash("hash-a"))?.id, "a");

    // The process's own writes take effect on its next read.
    await server.tokens.revoke("a", 2_000);
    expect(await server.tokens.findActiveByHash("hash-a")).toBeUndefined();
    expect(await server.tokens.anyActive()).toBe(false);
    await server.tokens.create(token("b"));
    expect(await server.tokens.anyActive()).toBe(true);
    expect((await server.tokens.findActiveByHash("hash-b"))?.id).toBe("b");

    // And another process's revocation, within the bound.
    await cli.tokens.revoke("b", 3_000);
    await eventually(async () => (await server.tokens.findActiveByHash("hash-b"))?.id, undefined);
    await eventually(() => server.tokens.anyActive(), false);
  });
});
