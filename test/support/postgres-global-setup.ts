import type { TestProject } from "vitest/node";
import { startTestDatabase } from "./postgres.ts";

/**
 * Finds or starts the one PostgreSQL the whole test run shares (see `testDatabaseUrl`):
 * an embedded server is started here, in the main vitest process, so that every test file
 * uses it and it stops when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startTestDatabase();
  project.provide("cairnTestPgUrl", database.url);
  return () => database.stop();
}
