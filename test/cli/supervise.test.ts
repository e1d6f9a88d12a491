import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, fixtures, startService, tempDir } from "./cli.ts";

const dir = tempDir();
afterAll(() => dir.remove());

describe("cairn worker supervises itself", () => {
  it("restarts the worker after an uncaught error outside any step; its runs complete", async () => {
    const db = `sqlite:${join(dir.path, "supervised.db")}`;
    const env = { CRASH_ONCE_MARKER: join(dir.path, "crashed") };
    const worker = startService(["worker", join(fixtures, "crash-once"), "--db", db, "--json"], {
      env,
    });
    await worker.ready;
    const run = cli(["run", "crash-once", "--db", db, "--wait"], { env });
    await worker.waitForStderr("outside any step (runs in flight:");
    await worker.waitForStderr("worker exited after an uncaught error; restarting it in 1000 ms");
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toBe("survived");
    expect(await worker.stop("SIGINT")).toBe(0);
  }, 60_000);
});
