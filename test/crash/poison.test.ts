/**
 * Poison runs with real worker processes: a step that ends its own process (process.exit,
 * a SIGKILL of itself) kills every worker that takes its run. The test restarts workers as
 * they die; after three deaths without progress the run must fail with PoisonRunError,
 * and the normal runs started beside it must all complete.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cairn } from "../../src/index.ts";
import { waitForEngine } from "../../src/testing/index.ts";
import { normal, poison } from "./fixtures/poison-worker.ts";
import { type Exit, killAll, repoRoot, spawnWorker } from "./spawn.ts";

const script = join(repoRoot, "test", "crash", "fixtures", "poison-worker.ts");
const WORKERS = 2;
const NORMAL_RUNS = 20;

afterEach(async () => {
  await killAll();
});

describe.each(["exit", "sigkill"] as const)("a step that ends its process (%s)", (kind) => {
  it("is quarantined after three worker deaths while normal runs complete", async () => {
    const dir = mkdtempSync(join(tmpdir(), `cairn-poison-${kind}-`));
    const db = `sqlite:${join(dir, "cairn.db")}`;
    const cairn = await Cairn.open({ db, workflows: [poison, normal] });
    const exits: Exit[] = [];
    let stopped = false;
    try {
      await cairn.start(poison, undefined, { id: "poison" });
      for (let n = 0; n < NORMAL_RUNS; n++) await cairn.start(normal, n, { id: `normal-${n}` });

      // Each slot keeps one worker alive, starting a new one whenever its worker dies.
      const slots = Array.from({ length: WORKERS }, async (_, slot) => {
        for (let life = 0; !stopped; life++) {
          const child = spawnWorker(
            {
              POISON_DB: db,
              POISON_KIND: kind,
              POISON_LEASE_MS: 1000,
              CRASH_LIFE: slot * 100 + life,
            },
            script,
          );
          const exit = await child.exited;
          if (!stopped) exits.push(exit);
        }
      });

      let lastSeen = new Map<string, string>();
      const statuses = async () => {
        const runs = await cairn.listRuns({ limit: NORMAL_RUNS + 1 });
        return new Map<string, string>(runs.map((r) => [r.id, r.status]));
      };
      await waitForEngine(
        cairn,
        async () => {
          const status = await statuses();
          lastSeen = status;
          return (
            status.get("poison") === "failed" &&
            [...status].every(([id, s]) => id === "poison" || s === "completed")
          );
        },
        () =>
          `poison run failed and ${NORMAL_RUNS} normal runs completed (deaths: ${exits.length}; ` +
          `runs not so: ${[...lastSeen]
            .filter(([id, s]) => s !== (id === "poison" ? "failed" : "completed"))
            .map(([id, s]) => `${id} ${s}`)
            .join(", ")})`,
        25_000,
      );
      stopped = true;
      await killAll();
      await Promise.all(slots);

      const run = await cairn.getRun("poison");
      expect(run.error).toMatchObject({ name: "PoisonRunError", code: "POISON_RUN" });
      expect(run.error?.message).toContain(
        '3 workers in a row died running it after step "prepare"',
      );
      expect(run.steps.map((s) => `${s.key}:${s.status}`)).toEqual(["prepare:completed"]);
      expect(exits).toHaveLength(3);
      for (const exit of exits) {
        expect(exit).toEqual(
          kind === "exit" ? { code: 1, signal: null } : { code: null, signal: "SIGKILL" },
        );
      }
      for (let n = 0; n < NORMAL_RUNS; n++) {
        expect((await cairn.getRun(`normal-${n}`)).output).toBe(n * 2);
      }
    } finally {
      stopped = true;
      await cairn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
