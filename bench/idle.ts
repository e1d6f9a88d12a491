import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DatabaseOpenError } from "./database.ts";
import type { IdleConfig, IdleMessage, IdleResult } from "./idle-child.ts";

export interface IdlePlan {
  levels: number[];
  warmupRuns: number;
  idleWindowMs: number;
}

export function idlePlan(quick: boolean): IdlePlan {
  return quick
    ? { levels: [1_000, 4_000], warmupRuns: 500, idleWindowMs: 1_000 }
    : { levels: [1_000, 10_000], warmupRuns: 2_000, idleWindowMs: 5_000 };
}

/**
 * W5 idle cost: forks idle-child.ts with the same loader flags this process runs under
 * (tsx's, whatever `npm run bench` used) plus --expose-gc, and waits for its figures.
 */
export function idleCost(url: string, p: IdlePlan): Promise<IdleResult> {
  const config: IdleConfig = {
    url,
    levels: p.levels,
    warmupRuns: p.warmupRuns,
    idleWindowMs: p.idleWindowMs,
    timeoutMs: 120_000,
  };
  const child = fork(
    fileURLToPath(new URL("./idle-child.ts", import.meta.url)),
    [JSON.stringify(config)],
    { execArgv: [...process.execArgv, "--expose-gc"], stdio: "inherit" },
  );
  return new Promise((resolve, reject) => {
    let message: IdleMessage | undefined;
    child.on("message", (m) => {
      message = m as IdleMessage;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (message?.ok) resolve(message.result);
      else if (message?.open) reject(new DatabaseOpenError(message.error));
      else if (message) reject(new Error(`W5 child failed: ${message.error}`));
      else reject(new Error(`W5 child exited (code ${code}, signal ${signal}) without a result.`));
    });
  });
}
