// A server in a process of its own, so its memory can be measured apart from the test's
// (poison and memory tests). `CAIRN_DB` picks the database (default: a temporary SQLite
// file). SIGUSR2 asks for a garbage collection and the RSS after it, on stdout.
import { type RunningServer, startServer } from "../../src/server/index.ts";
import { createTestCairn } from "../../src/testing/index.ts";
import { echo, greet } from "./workflows.ts";

// Handlers first: a signal that arrives before them would kill the process.
let stop = async () => {};
process.on("SIGUSR2", () => {
  // Two full collections: after one, the heap in use was sometimes 8 MB over its mark after a
  // burst of requests, freed by a later collection (not a leak); after two, within 3 MB.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  process.stdout.write(`rss ${process.memoryUsage().rss}\n`);
});
process.on("SIGTERM", () => {
  void stop().then(() => process.exit(0));
});

const db = process.env.CAIRN_DB;
const t = await createTestCairn({ workflows: [echo, greet], ...(db ? { db } : {}) });
const server: RunningServer = await startServer(t.cairn, { port: 0 });
stop = async () => {
  await server.close();
  await t.close();
};
process.stdout.write(`url ${server.url}\n`);
