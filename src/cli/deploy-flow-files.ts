import { watch } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Cairn } from "../sdk/cairn.ts";
import { displayPath, readFlowFile } from "./flow-files.ts";

interface Log {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

async function deployOne(cairn: Cairn, file: string, log: Log): Promise<void> {
  const { source, files } = readFlowFile(file);
  try {
    const result = await cairn.flows.deploy(source, {
      baseDir: dirname(resolve(file)),
      files,
      author: "cairn dev",
    });
    if (result.created) {
      log.info(
        { flow: result.name, version: result.version, file: displayPath(file) },
        "flow deployed",
      );
    }
  } catch (error) {
    const errors = (error as { errors?: string[] }).errors;
    log.error(
      { file: displayPath(file), errors: errors ?? [(error as Error).message] },
      `flow file ${displayPath(file)} not deployed`,
    );
  }
}

/**
 * `cairn dev`: deploys each flow file (an invalid one is logged, the others still load) and
 * redeploys a file when it changes. Returns a function that stops watching.
 */
export async function deployFlowFiles(
  cairn: Cairn,
  files: readonly string[],
  log: Log,
): Promise<() => void> {
  for (const file of files) await deployOne(cairn, file, log);
  const watchers = files.map((file) => {
    let timer: NodeJS.Timeout | undefined;
    const watcher = watch(file, () => {
      clearTimeout(timer);
      // Editors write in bursts: deploy once the file has been quiet for a moment.
      timer = setTimeout(() => void deployOne(cairn, file, log), 200);
    });
    watcher.on("error", () => {});
    return { watcher, clear: () => clearTimeout(timer) };
  });
  return () => {
    for (const w of watchers) {
      w.clear();
      w.watcher.close();
    }
  };
}
