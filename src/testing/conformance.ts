import { runStoreSuite } from "../store/conformance.ts";
import { runContinueStoreSuite } from "../store/conformance-continue.ts";
import { runCrashCountStoreSuite } from "../store/conformance-crashes.ts";
import { runEndsStoreSuite } from "../store/conformance-ends.ts";
import { runFlowStoreSuite } from "../store/conformance-flows.ts";
import { runInputStoreSuite } from "../store/conformance-inputs.ts";
import { runOperationsStoreSuite } from "../store/conformance-operations.ts";
import { runScheduleStoreSuite } from "../store/conformance-schedules.ts";
import type { StoreSuiteOptions } from "../store/conformance-support.ts";
import { runTokenStoreSuite } from "../store/conformance-tokens.ts";
import { runUiStoreSuite } from "../store/conformance-ui.ts";
import { runWaitAnyStoreSuite } from "../store/conformance-wait-any.ts";
import type { Store } from "../store/store.ts";

export type { StoreSuiteOptions, TokenStoreUnderTest } from "../store/conformance-support.ts";

/**
 * The store contract as vitest tests: every member of `Store`, each group in its own
 * `describe`. Call it at the top level of a test file with a factory for a fresh, empty
 * store; the bundled SQLite and PostgreSQL stores run this same suite. A store that also keeps
 * the HTTP server's API tokens passes `tokens` to have them checked too.
 * @example
 * import { runStoreConformance } from "cairnjs/testing/conformance";
 * runStoreConformance({ name: "my-store", newStore: async () => MyStore.open(freshDatabase()) });
 */
export function runStoreConformance<S extends Store>(options: StoreSuiteOptions<S>): void {
  runStoreSuite(options);
  runUiStoreSuite(options);
  runFlowStoreSuite(options);
  runScheduleStoreSuite(options);
  runInputStoreSuite(options);
  runOperationsStoreSuite(options);
  runCrashCountStoreSuite(options);
  runEndsStoreSuite(options);
  runWaitAnyStoreSuite(options);
  runContinueStoreSuite(options);
  runTokenStoreSuite(options);
}
