#!/usr/bin/env node
/**
 * `cairn`: the command line. This file only parses arguments and maps failures to exit
 * codes (0 ok, 1 failed, 2 usage error); each command group lives in `commands/`.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerBenchCommand } from "./commands/bench.ts";
import { registerConfigCommands } from "./commands/config.ts";
import { registerEventsCommands } from "./commands/events.ts";
import { registerFlowCommands } from "./commands/flows.ts";
import { registerInitCommand } from "./commands/init.ts";
import { registerMigrateCommand } from "./commands/migrate.ts";
import { registerProcessCommands } from "./commands/processes.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerRunsCommands } from "./commands/runs.ts";
import { registerScheduleCommands } from "./commands/schedules.ts";
import { registerSignalCommand } from "./commands/signal.ts";
import { registerTokensCommands } from "./commands/tokens.ts";
import { exitCodeFor, exitCodes, messageOf } from "./errors.ts";

// src/cli/main.ts and dist/cli/main.js both sit two levels below package.json.
const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };

const program = new Command("cairn")
  .description("Cairn, a durable workflow engine: every completed step is a checkpoint.")
  .version(version, "-V, --version")
  // Inherited by every command: usage errors throw instead of exiting with commander's 1.
  .exitOverride()
  .showHelpAfterError("(add --help for usage)")
  .addHelpText(
    "after",
    `
Exit codes: 0 ok, 1 a run failed (or the command failed), 2 usage error.
Configuration: flags > CAIRN_* environment variables > cairn.config.json|ts > defaults
(see \`cairn config print\`). Commands that change state (run, events send, runs cancel|retry)
go through the API of a running cairn dev/server, or to the database when none answers or
when --db is given; reads (runs list|show, replay, tokens) use the database.`,
  );

registerInitCommand(program, version);
registerProcessCommands(program);
registerRunCommand(program);
registerRunsCommands(program);
registerEventsCommands(program);
registerFlowCommands(program);
registerSignalCommand(program);
registerScheduleCommands(program);
registerTokensCommands(program);
registerConfigCommands(program);
registerMigrateCommand(program);
registerBenchCommand(program);

let code: number;
try {
  await program.parseAsync(process.argv);
  code = typeof process.exitCode === "number" ? process.exitCode : exitCodes.ok;
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; every other commander error (already printed) is a usage error.
    code = error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  } else {
    code = exitCodeFor(error);
    process.stderr.write(`error: ${messageOf(error)}\n`);
    if (process.env.CAIRN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  }
}
// Exit now: open handles (HTTP keep-alive sockets, timers in user code) must not keep a
// finished command alive. stdout and stderr are synchronous for files and pipes on POSIX.
process.exit(code);
