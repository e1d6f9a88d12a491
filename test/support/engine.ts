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
  const base = inject("cairnTestPgUrl");
  const { schema, drop } = await freshSchema(base);
  const separator = base.includes("?") ? "&" : "?";
  const t = await createTestCairn({ ...options, db: `${base}${separator}schema=${schema}` });
  return {
    ...t,
    async close() {
      await t.close();
      await drop();
    },
  };
}
