import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { UsageError } from "../errors.ts";

/** The source checkout this CLI runs from (src/cli/commands or dist/cli/commands → root). */
const root = fileURLToPath(new URL("../../../", import.meta.url));

/** `cairn bench [args…]`: runs the benchmark of a source checkout (`bench/run.ts` under tsx). */
export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description(
      "run the performance benchmark; arguments after -- go to it, e.g. cairn bench -- --help",
    )
    .argument("[args...]", "arguments for bench/run.ts")
    .allowUnknownOption()
    .action(async (args: string[]) => {
      const script = `${root}bench/run.ts`;
      if (!existsSync(script)) {
        throw new UsageError(`cairn bench needs a source checkout: ${script} does not exist.`);
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
          cwd: root,
          stdio: "inherit",
        });
        child.on("error", reject);
        child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0)));
      });
      process.exitCode = code;
    });
}
