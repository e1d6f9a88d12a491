import type { Command } from "commander";
import { addConfigOptions } from "../config-keys.ts";
import { apiOrDatabase } from "../engine.ts";
import { parseJsonFlag, UsageError } from "../errors.ts";
import { print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

/** `cairn events send <name>`: accepts an event, through the API or in the database. */
export function registerEventsCommands(program: Command): void {
  const events = program.command("events").description("send events to waiting runs");
  const send = events
    .command("send")
    .description("send an event; runs waiting for it (and matching its data) resume")
    .argument("<name>", "event name, e.g. order.approved")
    .option("--data <json>", "the event's data as JSON")
    .option("--id <id>", "event id; sending the same id again is a no-op")
    .option("--json", "print JSON");
  addConfigOptions(send, ["url", "token", "db"]).action(async (name: string, opts) => {
    const data = parseJsonFlag("--data", opts.data);
    if (name.trim() === "") throw new UsageError("The event name must not be empty.");
    const resolved = await resolveConfig(send);
    const result = await apiOrDatabase(
      resolved,
      (remote) => remote.sendEvent(name, data, opts.id ? { id: opts.id } : {}),
      (cairn) => cairn.sendEvent(name, data, opts.id ? { id: opts.id } : {}),
    );
    if (opts.json) return printJson({ name, ...result });
    if (result.duplicate) return print(`Event ${result.id} was already accepted: nothing changed.`);
    print(`Event ${name} accepted (id ${result.id}).`);
    print(listOf("Started", result.started));
    print(listOf("Woke", result.woke));
  });
}

/** `Started 2 runs: a, b` or `Started no run.` */
function listOf(verb: string, runs: readonly string[]): string {
  if (runs.length === 0) return `${verb} no run.`;
  return `${verb} ${runs.length} run${runs.length === 1 ? "" : "s"}: ${runs.join(", ")}`;
}
