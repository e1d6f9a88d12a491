import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { createTestCairn, type TestCairn } from "../../src/testing/index.ts";
import { freshSchema } from "./postgres.ts";

/** The store the engine tests run on: SQLite by default, PostgreSQL in the "postgres" project. */
export const testStore: "sqlite" | "postgres" =
  process.env.CAIRN_TEST_STORE === "postgres" ? "postgres" : "sqlite";

/**
 * `createTestCairn` on the store under test: a temporary SQLite file, or a fresh schema of
 * the test PostgreSQL (dropped on close), so every engine test proves both stores.
 */
export async function testCairn(
  options: Parameters<typeof createTestCairn>[0] = {},
): Promise<TestCairn> {
  if (testStore === "sqlite") return createTestCairn(options);
  const { url, drop } = await freshPostgresDatabase();
  let t: TestCairn;
  try {
    t = await createTestCairn({ ...options, db: url });
  } catch (error) {
    await drop(); // a test of bad options leaves no schema behind
    throw error;
  }
  return {
    ...t,
    async close() {
      await t.close();
      await drop();
    },
  };
}

/** A fresh schema of the test PostgreSQL, as a database URL, and how to drop it. */
async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = inject("cairnTestPgUrl");
  const { schema, drop } = await freshSchema(base);
  return { url: `${base}${base.includes("?") ? "&" : "?"}schema=${schema}`, drop };
}

/**
 * A fresh, empty database on the store under test, for tests that open engines or worker
 * processes on it themselves: a temporary SQLite file, or a PostgreSQL schema. `remove`
 * deletes it.
 */
export async function freshTestDatabase(
  label: string,
): Promise<{ url: string; remove: () => Promise<void> }> {
  if (testStore === "postgres") {
    const { url, drop } = await freshPostgresDatabase();
    return { url, remove: drop };
  }
  const dir = mkdtempSync(join(tmpdir(), `cairn-${label}-`));
  return {
    url: `sqlite:${join(dir, "cairn.db")}`,
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
