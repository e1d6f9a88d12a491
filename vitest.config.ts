import { defineConfig } from "vitest/config";

/** The engine behaviour tests run twice: on SQLite, and on PostgreSQL (see test/support/engine.ts). */
const engineTests = [
  "test/server/api.test.ts",
  "test/server/client.test.ts",
  "test/server/client-operations.test.ts",
  "test/server/schedules.test.ts",
  "test/server/stream.test.ts",
  "test/steps.test.ts",
  "test/waits.test.ts",
  "test/operations.test.ts",
  "test/flow-control.test.ts",
  "test/schedules.test.ts",
  "test/schedules-catchup.property.test.ts",
  "test/cancel-stress.test.ts",
  "test/new-run.test.ts",
  "test/step-logs.test.ts",
  "test/server/ui-api.test.ts",
  "test/flows/flow-kinds.test.ts",
  "test/flows/flows-api.test.ts",
  "test/flows/flow-step-test.test.ts",
  "test/flows/flow-dag.property.test.ts",
  "test/flows/http-step.test.ts",
  "test/uncaught-errors.test.ts",
  "test/server/token-lifecycle.test.ts",
  "test/server/readiness.test.ts",
  "test/server/webhook-replays.test.ts",
  "test/names.test.ts",
  "test/server/names-api.test.ts",
  "test/wait-any.test.ts",
  "test/continue-as-new.test.ts",
  "test/patching.test.ts",
  "test/workflow-versions.test.ts",
  "test/misuse.test.ts",
  "test/retention.test.ts",
  "test/server/purge-api.test.ts",
  "test/idempotency.test.ts",
  "test/tags-search.test.ts",
  "test/event-loop-stalls.test.ts",
  "test/server/stream-limits.test.ts",
  "test/server/bad-requests-memory.test.ts",
  "test/cross-process-wake.test.ts",
  "test/crash/poison.test.ts",
  "test/child-start-failure.test.ts",
  "test/journal-load-failure.test.ts",
  "test/lease-fencing.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two test files at a time on two cores (vitest's default is one fewer than the cores):
    // most tests wait on fsyncs, PostgreSQL and child processes, not the CPU. The sqlite and
    // postgres projects went from 573 to 350 s.
    maxWorkers: 2,
    globalSetup: ["test/support/postgres-global-setup.ts"],
    projects: [
      // The engine tests share their worker processes between files (`isolate: false`):
      // a fresh process per file cost each of the 161 files about 0.4 s of imports, about
      // 30 s of the run on two cores. They can share: no test mocks a module or fakes
      // timers, and each opens and closes its own engines, stores and servers.
      {
        extends: true,
        test: {
          name: "sqlite",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "ui/src/**/*.test.ts"],
          exclude: ["test/faults/**", "test/ui/**", "**/node_modules/**"],
          isolate: false,
        },
      },
      // The web UI: unit tests of its pure modules, and browser tests that drive Debian's
      // chromium against a real `cairn dev` (the UI is built first if stale). One file at a
      // time: each starts a browser and a server, too much for two cores in parallel.
      {
        extends: true,
        test: {
          name: "ui",
          include: ["test/ui/**/*.test.ts"],
          globalSetup: ["test/ui/support/build-ui.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
        },
      },
      // PostgreSQL restarts, network cuts, freezes and zombie workers on a server of their own
      // (`npm run test:faults`; the last part of `npm test`, alone). One file at a time:
      // their gates time recoveries, which a neighbour's load would distort (beside the
      // browser tests, Q-P1 and Q-L3 failed).
      {
        extends: true,
        test: { name: "faults", include: ["test/faults/**/*.test.ts"], fileParallelism: false },
      },
      {
        extends: true,
        test: {
          name: "postgres",
          include: engineTests,
          env: { CAIRN_TEST_STORE: "postgres" },
          isolate: false,
        },
      },
    ],
  },
});
