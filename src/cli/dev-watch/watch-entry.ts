import { type FSWatcher, statSync, watch } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import type pino from "pino";
import type { Cairn } from "../../sdk/cairn.ts";
import type { AnyWorkflow } from "../../sdk/define-workflow.ts";
import { loadWorkflows } from "../load-workflows.ts";
import { hasChanges, workflowChanges } from "./workflow-changes.ts";

/** Wait this long after the last change of a burst (editors write a file in several steps). */
const settleMs = 150;
const watched = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"]);
const unfinished = ["queued", "running", "waiting"] as const;
/** Runs checked per changed workflow and status: enough for a dev database. */
const checkLimit = 200;

/**
 * `cairn dev`'s watch mode: when a module file under the entry's folder changes, loads the
 * entry again as a fresh module graph, swaps the changed workflows into the running engine
 * (the store, its runs and the server stay), logs what changed, and replays the unfinished
 * runs of changed workflows against the new code to warn about those that would diverge.
 * A file that no longer loads is reported and the previous code keeps running.
 * Returns a function that stops watching.
 */
export function watchEntry(
  entry: string,
  initial: readonly AnyWorkflow[],
  cairn: Cairn,
  logger: pino.Logger,
): () => void {
  const path = resolve(entry);
  const folder = statSync(path).isDirectory() ? path : dirname(path);
  let current = initial;
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> = Promise.resolve();
  const files = new Set<string>();

  const reload = async (changedFiles: string[]) => {
    generation += 1;
    let next: AnyWorkflow[];
    try {
      next = (await loadWorkflows(entry, generation)).workflows;
    } catch (error) {
      logger.error(
        { files: changedFiles },
        `reload failed, the previous code keeps running: ${(error as Error).message}`,
      );
      return;
    }
    const changes = workflowChanges(current, next);
    if (!hasChanges(changes)) {
      logger.info({ files: changedFiles }, "files changed; no workflow changed");
      return;
    }
    await cairn.reload(next);
    current = next;
    logger.info({ files: changedFiles, ...changes }, "workflows reloaded");
    if (changes.removed.length > 0) {
      logger.warn(
        { removed: changes.removed },
        "removed workflows stay registered until cairn dev restarts, so their runs can finish",
      );
    }
    for (const name of changes.changed) {
      const workflow = next.find((w) => w.name === name) as AnyWorkflow;
      await warnDivergence(cairn, workflow, logger);
    }
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(folder, { recursive: true }, (_event, file) => {
      if (!file || !watched.has(extname(file)) || /(^|[/\\])(node_modules|\.)/.test(file)) return;
      files.add(file);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const batch = [...files];
        files.clear();
        reloading = reloading.then(() => reload(batch));
      }, settleMs);
    });
  } catch (error) {
    logger.warn(`cannot watch ${folder} (${(error as Error).message}): reload by restarting`);
    return () => {};
  }
  watcher.on("error", (error) => logger.warn({ err: error }, `watching ${folder} failed`));
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}

/** Replays the unfinished runs of `workflow` against its new code; warns per diverging run. */
async function warnDivergence(cairn: Cairn, workflow: AnyWorkflow, logger: pino.Logger) {
  for (const status of unfinished) {
    const runs = await cairn.listRuns({ workflow: workflow.name, status, limit: checkLimit });
    for (const run of runs) {
      try {
        const report = await cairn.replay(run.id, workflow);
        if (report.result === "diverged" && report.divergence) {
          logger.warn(
            { runId: run.id, workflow: workflow.name, position: report.divergence.position },
            `run ${run.id} (${status}) would diverge under the new code: ${report.divergence.message} — finish or cancel it, or guard the change with ctx.patched()`,
          );
        }
      } catch (error) {
        logger.warn(
          { runId: run.id },
          `could not replay run ${run.id}: ${(error as Error).message}`,
        );
      }
    }
  }
}
