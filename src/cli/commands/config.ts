import type { Command } from "commander";
import { redactUrl } from "../../core/redact.ts";
import { addConfigOptions, allConfigKeys, type ConfigKey, configKeys } from "../config-keys.ts";
import { formatTable, print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

const allKeys = allConfigKeys;

/** `cairn config print`: the effective configuration and where each value came from. */
export function registerConfigCommands(program: Command): void {
  const config = program.command("config").description("inspect the configuration");
  const printCommand = config
    .command("print")
    .description(
      "print the effective configuration: flags > CAIRN_* environment > cairn.config.json|ts > defaults",
    )
    .option("--json", "print JSON");
  addConfigOptions(printCommand, allKeys).action(async (opts) => {
    const { values, sources, file } = await resolveConfig(printCommand);
    const shown = (key: ConfigKey) => {
      const value = values[key];
      if (value === undefined) return value;
      if (configKeys[key].secret) return "(set, hidden)";
      return key === "db" && typeof value === "string" ? redactUrl(value) : value;
    };
    if (opts.json) {
      const entries = allKeys.map((key) => [
        key,
        { value: shown(key) ?? null, source: sources[key].layer, from: sources[key].name },
      ]);
      return printJson({ file: file ?? null, values: Object.fromEntries(entries) });
    }
    print(`configuration file: ${file ?? "none (cairn.config.json or cairn.config.ts)"}`);
    print(
      formatTable(
        ["KEY", "VALUE", "SOURCE"],
        allKeys.map((key) => {
          const value = shown(key);
          const text =
            value === undefined ? "-" : typeof value === "string" ? value : JSON.stringify(value);
          const { layer, name } = sources[key];
          return [key, text, layer === "default" ? "default" : `${layer} ${name}`];
        }),
      ),
    );
  });
}
