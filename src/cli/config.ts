import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type Duration, toMs } from "../core/duration.ts";
import { defaultDatabaseUrl } from "../engine/default-database-url.ts";
import { resolveWebhooks, type WebhookOptions } from "../server/resolve-webhooks.ts";
import {
  allConfigKeys,
  type CairnConfig,
  type ConfigKey,
  configKeys,
  type LogLevel,
  logLevels,
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

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return toMs(value as Duration);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message, input: value });
    return z.NEVER;
  }
});
const positiveInt = z.int().min(1);
const list = z.array(z.string().min(1));

/** What each key accepts, whichever layer it comes from. */
const schemas: Record<ConfigKey, z.ZodType> = {
  db: z.string().min(1),
  host: z.string().min(1),
  port: z.int().min(0).max(65_535),
  url: z.url({ protocol: /^https?$/ }),
  token: z.string().min(1),
  logLevel: z.enum(logLevels),
  concurrency: positiveInt,
  queue: z.string().min(1),
  drainTimeout: duration,
  bodyLimitBytes: positiveInt,
  allowedHosts: list,
  allowedOrigins: list,
  // The server's own check, so the file and `startServer` options refuse the same things.
  webhooks: z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    try {
      resolveWebhooks(value as Record<string, WebhookOptions>);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
};

const fileSchema = z.strictObject(
  Object.fromEntries(allConfigKeys.map((k) => [k, schemas[k].optional()])),
);
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
      values[key] = fromText(key, flags[key], flagName);
      sources[key] = { layer: "flag", name: flagName };
    } else if (spec.env && envText !== undefined && envText !== "") {
      values[key] = fromText(key, envText, spec.env);
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
function fromText(key: ConfigKey, text: string, where: string): unknown {
  const { kind } = configKeys[key];
  let raw: unknown = text;
  if (kind === "int" && /^\s*-?\d+\s*$/.test(text)) raw = Number(text);
  if (kind === "duration" && /^\s*\d+(\.\d+)?\s*$/.test(text)) raw = Number(text);
  if (kind === "list") raw = text.split(",").map((s) => s.trim());
  const result = schemas[key].safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new UsageError(`${where}: invalid value "${text}" for ${key}: ${issue?.message}.`);
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
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (known: ${allConfigKeys.join(", ")})`
        : issue.path.length === 0
          ? `${issue.message}: the file must hold one object`
          : `"${issue.path.join(".")}": ${issue.message}`,
    );
    throw new UsageError(`${name}: ${problems.join("; ")}.`);
  }
  return { path: name, values: result.data as Partial<Record<ConfigKey, unknown>> };
}
