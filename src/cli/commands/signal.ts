import type { Command } from "commander";
import { addConfigOptions } from "../config-keys.ts";
import { apiOrDatabase } from "../engine.ts";
import { parseJsonFlag, UsageError } from "../errors.ts";
import { print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

/** `cairn signal <run> <name>`: sends a signal to one run, through the API or the database. */
export function registerSignalCommand(program: Command): void {
  const signal = program
    .command("signal")
    .description("send a signal to one run; it is buffered until the run waits for it")
    .argument("<run>", "run id")
    .argument("<name>", "signal name, as in ctx.waitForSignal(name)")
    .option("--data <json>", "the signal's payload as JSON")
    .option("--json", "print JSON");
  addConfigOptions(signal, ["url", "token", "db"]).action(
    async (runId: string, name: string, opts: { data?: string; json?: boolean }) => {
      const payload = parseJsonFlag("--data", opts.data);
      if (name.trim() === "") throw new UsageError("The signal name must not be empty.");
      const resolved = await resolveConfig(signal);
      await apiOrDatabase(
        resolved,
        (remote) => remote.signal(runId, name, payload),
        (cairn) => cairn.signal(runId, name, payload),
      );
      if (opts.json) return printJson({ runId, name, sent: true });
      print(`Signal ${name} sent to run ${runId}.`);
    },
  );
}
