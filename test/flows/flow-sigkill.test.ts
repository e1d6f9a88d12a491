import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cairn } from "../../src/index.ts";
import { type CrashChild, killAll, spawnWorker } from "../crash/spawn.ts";

const fixture = join(import.meta.dirname, "fixtures", "flow-worker.ts");
let dir: string | undefined;
afterEach(async () => {
  await killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Lines of the ledger: `start <key>` when a script begins, `done <key>` when it ends. */
function ledger(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const flow = (ledgerPath: string) => `
name: crashy
steps:
  - id: first
    script:
      lang: bash
      source: |
        echo "start first" >> ${ledgerPath}
        sleep 0.4
        echo "done first" >> ${ledgerPath}
        echo '{"items": [0,1,2,3,4,5,6,7,8,9]}'
  - id: per
    forEach:
      items: "=steps.first.items"
      parallelism: 3
      steps:
        - id: work
          script:
            lang: bash
            source: |
              echo "start per[$CAIRN_ARG_I].work" >> ${ledgerPath}
              sleep 0.3
              echo "done per[$CAIRN_ARG_I].work" >> ${ledgerPath}
              echo "$CAIRN_ARG_I"
          with: { i: "=index" }
        - id: twice
          needs: [work]
          script:
            lang: python
            source: |
              def main(n):
                  with open("${ledgerPath}", "a") as f:
                      f.write(f"start per[{n}].twice\\n")
                  with open("${ledgerPath}", "a") as f:
                      f.write(f"done per[{n}].twice\\n")
                  return n * 2
          with: { n: "=steps.work" }
output: "=steps.per"
`;

describe("a flow under SIGKILL", () => {
  it("resumes after kill -9 during script steps and a forEach: completed steps never run again", async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-flow-kill-"));
    const db = `sqlite:${join(dir, "cairn.db")}`;
    const ledgerPath = join(dir, "ledger.txt");
    writeFileSync(ledgerPath, "");
    const cairn = await Cairn.open({ db });
    try {
      await cairn.flows.deploy(flow(ledgerPath));
      const run = await cairn.start("crashy", {});
      const doneCount = () => ledger(ledgerPath).filter((l) => l.startsWith("done")).length;
      // Kill during `first` (a script step), then twice during the forEach.
      for (const target of [0, 6, 14]) {
        const child: CrashChild = spawnWorker({ FLOW_DB: db }, fixture);
        await child.waitFor("ready", 20_000);
        await until(
          () =>
            ledger(ledgerPath).filter((l) => l.startsWith("start")).length > doneCount() &&
            doneCount() >= target,
          `a script running after ${target} done`,
        );
        await child.kill();
      }
      const last = spawnWorker({ FLOW_DB: db }, fixture);
      await last.waitFor("ready", 20_000);
      await until(
        async () => (await cairn.getRun(run.id)).status === "completed",
        "the run to complete",
      );
      expect(await run.result()).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);

      const lines = ledger(ledgerPath);
      const info = await cairn.getRun(run.id);
      const keys = [
        "first",
        ...Array.from({ length: 10 }, (_, i) => [`per[${i}].work`, `per[${i}].twice`]).flat(),
      ];
      for (const key of keys) {
        const starts = lines.filter((l) => l === `start ${key}`).length;
        // Interrupted at most once each (three kills), so at most two starts; at least one.
        expect(starts, key).toBeGreaterThanOrEqual(1);
        expect(starts, key).toBeLessThanOrEqual(2);
        expect(info.steps.filter((s) => s.key === key && s.status === "completed")).toHaveLength(1);
      }
      // Exactly-once recorded outcomes: no step key journaled twice.
      const journaled = info.steps.map((s) => s.key);
      expect(new Set(journaled).size).toBe(journaled.length);
      // Three kills interrupted at most a handful of scripts: most ran exactly once.
      const repeated = keys.filter((k) => lines.filter((l) => l === `start ${k}`).length > 1);
      expect(repeated.length).toBeLessThanOrEqual(3 * 3);
    } finally {
      await cairn.close();
    }
  }, 120_000);
});

/** Whether any process of the process group `pgid` is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A script that parks on its first attempt (with a background child) and returns on the next. */
const parkedFlow = (dir: string) => `
name: parked
steps:
  - id: park
    script:
      lang: bash
      source: |
        if [ -e ${dir}/parked ]; then echo "$$" >> ${dir}/rerun; echo '{"rerun": true}'; exit 0; fi
        touch ${dir}/parked
        sleep 600 &
        echo "$! $$ $PWD" > ${dir}/pids.tmp && mv ${dir}/pids.tmp ${dir}/pids
        wait
`;

describe("a script under a SIGKILLed worker", () => {
  it("dies with its worker, and the resumed run runs the step again elsewhere", async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-flow-orphan-"));
    const db = `sqlite:${join(dir, "cairn.db")}`;
    const pidsPath = join(dir, "pids");
    const cairn = await Cairn.open({ db });
    try {
      await cairn.flows.deploy(parkedFlow(dir));
      const run = await cairn.start("parked", {});
      const first = spawnWorker({ FLOW_DB: db }, fixture);
      await first.waitFor("ready", 20_000);
      await until(() => ledger(pidsPath).length === 1, "the script to write its pids");
      const [sleeperPid, scriptPid, scratch] = (ledger(pidsPath)[0] as string).split(" ");
      const sleeper = Number(sleeperPid);
      const script = Number(scriptPid);
      expect(groupAlive(script)).toBe(true);
      expect(existsSync(scratch as string)).toBe(true);
      await first.kill();
      // The script (its group's leader) and its background child go with the worker.
      await until(() => !groupAlive(script), "the script's process group to die", 5_000);
      expect(() => process.kill(sleeper, 0)).toThrow();
      // Its temporary directory, which the dead worker could not remove, went with it.
      expect(existsSync(scratch as string)).toBe(false);

      const second = spawnWorker({ FLOW_DB: db }, fixture);
      await second.waitFor("ready", 20_000);
      expect(await run.result()).toEqual({ park: { rerun: true } });
      const rerunPid = Number(ledger(join(dir, "rerun"))[0]);
      expect(rerunPid).not.toBe(script);
      const info = await cairn.getRun(run.id);
      expect(info.steps.filter((s) => s.key === "park" && s.status === "completed")).toHaveLength(
        1,
      );
    } finally {
      await cairn.close();
    }
  }, 60_000);
});
