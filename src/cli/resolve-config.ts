import { type Command, Option } from "commander";
import type { ResolvedConfig } from "./config.ts";
import { allConfigKeys, type ConfigKey, configKeys } from "./config-keys.ts";

/**
 * The configuration for a command: its flags > `CAIRN_*` environment variables >
 * `cairn.config.json` or `cairn.config.ts` in the working directory > defaults.
 * @throws UsageError naming the key and where a bad value came from.
 */
export async function resolveConfig(
  command: Command,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<ResolvedConfig> {
  const opts = command.opts<Record<string, unknown>>();
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of allConfigKeys) {
    const flag = configKeys[key].flag;
    if (!flag) continue;
    const value = opts[new Option(flag).attributeName()];
    if (typeof value === "string") flags[key] = value;
  }
  // Loaded on use: zod and the config file loader stay out of `cairn --help`.
  const { resolveLayers } = await import("./config.ts");
  return resolveLayers(flags, env, cwd);
}
