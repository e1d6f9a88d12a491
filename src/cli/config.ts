import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultDatabaseUrl } from "../engine/default-database-url.ts";
import { configChecks } from "./config-checks.ts";
import {
  allConfigKeys,
  type CairnConfig,
  type ConfigKey,
  configKeys,
  type LogLevel,
} from "./config-keys.ts";
import { UsageError } from "./errors.ts";
import { importUserModule } from "./load-module.ts";

export type ConfigSource = "flag" | "env" | "file" | "default";

export interface ResolvedConfig {
  values: CairnConfig;
  /** Where each value came from: `flag --port`, `env CAIRN_PORT`, `file cairn.config.json`, `default`. */
  sources: Record<ConfigKey, { layer: ConfigSource; name: string }>;
  /** The configuration file that was read, if any. */
  file: string | undefined;
}

export const configFileNames = ["cairn.config.json", "cairn.config.ts"] as const;

/** Resolves every key from flag text, then the environment, then the file, then defaults. */
export async function resolveLayers(
  flags: Partial<Record<ConfigKey, string>>,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<ResolvedConfig> {
  const { path: file, values: fromFile } = await readConfigFile(cwd);
  const values: Partial<Record<ConfigKey, unknown>> = {};
  const sources = {} as ResolvedConfig["sources"];
  for (const key of allConfigKeys) {
    const spec = configKeys[key];
    const flagName = spec.flag?.split(" ")[0];
    const envText = spec.env ? env[spec.env] : undefined;
    if (flags[key] !== undefined && flagName) {
      values[key] = await fromText(key, flags[key], flagName);
      sources[key] = { layer: "flag", name: flagName };
    } else if (spec.env && envText !== undefined && envText !== "") {
      values[key] = await fromText(key, envText, spec.env);
      sources[key] = { layer: "env", name: spec.env };
    } else if (fromFile[key] !== undefined && file) {
      values[key] = fromFile[key];
      sources[key] = { layer: "file", name: file };
    } else {
      sources[key] = { layer: "default", name: "default" };
    }
  }
  const v = values as Partial<CairnConfig>;
  const host = v.host ?? "127.0.0.1";
  const port = v.port ?? 7420;
  return {
    values: {
      db: v.db ?? defaultDatabaseUrl,
      host,
      port,
      url: (v.url ?? defaultUrl(host, port)).replace(/\/+$/, ""),
      token: v.token,
      logLevel: v.logLevel ?? ("info" satisfies LogLevel),
      concurrency: v.concurrency ?? 100,
      queue: v.queue,
      drainTimeout: v.drainTimeout ?? 10_000,
      bodyLimitBytes: v.bodyLimitBytes,
      allowedHosts: v.allowedHosts,
      allowedOrigins: v.allowedOrigins,
      webhooks: v.webhooks,
      retention: v.retention,
    },
    sources,
    file,
  };
}

/** Where a client finds the API that a `cairn dev` with this host and port serves. */
function defaultUrl(host: string, port: number): string {
  const anyAddress = host === "0.0.0.0" || host === "::" || host === "localhost";
  const name = anyAddress ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${name}:${port === 0 ? 7420 : port}`;
}

/** Converts flag or environment text to the key's type and validates it. */
async function fromText(key: ConfigKey, text: string, where: string): Promise<unknown> {
  const { kind } = configKeys[key];
  let raw: unknown = text;
  if (kind === "int" && /^\s*-?\d+\s*$/.test(text)) raw = Number(text);
  if (kind === "duration" && /^\s*\d+(\.\d+)?\s*$/.test(text)) raw = Number(text);
  if (kind === "list") raw = text.split(",").map((s) => s.trim());
  const result = await configChecks[key](raw);
  if (result.ok) return result.value;
  throw new UsageError(`${where}: invalid value "${text}" for ${key}: ${result.problem}.`);
}

async function readConfigFile(
  cwd: string,
): Promise<{ path: string | undefined; values: Partial<Record<ConfigKey, unknown>> }> {
  const present = configFileNames.filter((name) => existsSync(join(cwd, name)));
  if (present.length > 1) {
    throw new UsageError(`Both ${present.join(" and ")} exist in ${cwd}: keep one of them.`);
  }
  const name = present[0];
  if (!name) return { path: undefined, values: {} };
  const path = join(cwd, name);
  let raw: unknown;
  if (name.endsWith(".json")) {
    try {
      raw = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new UsageError(`${name}: not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const module = await importUserModule(path);
    raw = module.default;
    if (raw === undefined) {
      throw new UsageError(`${name}: export the configuration object as \`export default {…}\`.`);
    }
  }
  return { path: name, values: await checkFileValues(name, raw) };
}

/** The file's keys, each checked; every problem of the file is reported at once. */
async function checkFileValues(
  name: string,
  raw: unknown,
): Promise<Partial<Record<ConfigKey, unknown>>> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const got = raw === null ? "null" : Array.isArray(raw) ? "array" : typeof raw;
    throw new UsageError(
      `${name}: expected object, received ${got}: the file must hold one object.`,
    );
  }
  const problems: string[] = [];
  const unknown = Object.keys(raw).filter((k) => !(allConfigKeys as string[]).includes(k));
  if (unknown.length > 0) {
    const keys = unknown.map((k) => `"${k}"`).join(", ");
    problems.push(
      `unknown key${unknown.length > 1 ? "s" : ""} ${keys} (known: ${allConfigKeys.join(", ")})`,
    );
  }
  const values: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of allConfigKeys) {
    const given = (raw as Record<string, unknown>)[key];
    if (given === undefined) continue;
    const result = await configChecks[key](given);
    if (result.ok) values[key] = result.value;
    else problems.push(`"${key}": ${result.problem}`);
  }
  if (problems.length > 0) throw new UsageError(`${name}: ${problems.join("; ")}.`);
  return values;
}
