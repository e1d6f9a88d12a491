/**
 * PostgreSQL's full disk (SQLSTATE 53100 disk_full) answers like SQLite's: `STORAGE_FULL`,
 * HTTP 503. A really full disk under a PostgreSQL server is impractical to produce here (the
 * server's data directory would need a small file system of its own), so the server raises
 * the real error itself: a trigger on `runs` fails inserts with ERRCODE disk_full, the same
 * SQLSTATE, through the same driver and store code paths as a full disk.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import { CairnError } from "../src/core/errors.ts";
import { Cairn, defineWorkflow } from "../src/index.ts";
import { startServer } from "../src/server/index.ts";
import { postgresStorageError } from "../src/store-postgres/storage-error.ts";
import { freshSchema, withSql } from "./support/postgres.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const echo = defineWorkflow({ name: "echo" }, async (ctx, input: { n: number }) =>
  ctx.step("echo", () => input.n),
);

async function schemaUrl(): Promise<{ base: string; schema: string; url: string }> {
  const base = inject("cairnTestPgUrl");
  const { schema, drop } = await freshSchema(base);
  cleanups.push(drop);
  return { base, schema, url: `${base}${base.includes("?") ? "&" : "?"}schema=${schema}` };
}

describe("postgresStorageError", () => {
  it("turns PostgreSQL's disk_full (53100) into STORAGE_FULL and leaves other errors as they are", async () => {
    const { base } = await schemaUrl();
    const real = await withSql(base, (sql) =>
      sql`DO $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'
            USING ERRCODE = 'disk_full'; END $$`.then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect((real as { code?: string }).code).toBe("53100");
    const mapped = postgresStorageError(real);
    expect(CairnError.is(mapped) && mapped.code).toBe("STORAGE_FULL");
    expect((mapped as Error).message).toContain("No space left on device");
    expect((mapped as Error).cause).toBe(real);

    // 53200 out_of_memory is another condition, not a full disk (53300 too_many_connections
    // is a server out of reach: storage-error.test.ts).
    for (const code of ["53200", "23505", undefined]) {
      const other = Object.assign(new Error("other"), { code });
      expect(postgresStorageError(other)).toBe(other);
    }
  });
});

describe("a PostgreSQL server whose disk is full", () => {
  it("refuses starts with 503 storage full, writes nothing, and takes them again once writes succeed", async () => {
    const { schema, base, url } = await schemaUrl();
    const cairn = await Cairn.open({ db: url, workflows: [echo], onError: () => {} });
    cleanups.push(() => cairn.close());
    const server = await startServer(cairn, { port: 0 });
    cleanups.push(() => server.close());
    const start = (id: string) =>
      fetch(`${server.url}/api/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ workflow: "echo", input: { n: 1 }, id }),
      });

    await withSql(
      base,
      async (sql) => {
        await sql`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device'
            USING ERRCODE = 'disk_full'; END $$`;
        await sql`CREATE TRIGGER disk_full BEFORE INSERT ON runs
          FOR EACH ROW EXECUTE FUNCTION disk_full()`;
      },
      schema,
    );
    const refused = await start("full-1");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await refused.json()).toMatchObject({ code: "STORAGE_FULL", title: "Storage full" });
    await expect(cairn.getRun("full-1")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });

    await withSql(base, (sql) => sql`DROP TRIGGER disk_full ON runs`, schema);
    const accepted = await start("after");
    expect(accepted.status).toBe(201);
  });
});
