import { type Command, Option } from "commander";
import type { WebhookOptions } from "../server/resolve-webhooks.ts";

/**
 * The CLI's configuration keys: flag, environment variable, type and meaning of each. This
 * module stays light (no zod, no engine) so `--help` starts fast; `config.ts` resolves.
 */
export interface CairnConfig {
  db: string;
  host: string;
  port: number;
  url: string;
  token: string | undefined;
  logLevel: LogLevel;
  concurrency: number;
  queue: string | undefined;
  /** In ms. */
  drainTimeout: number;
  bodyLimitBytes: number | undefined;
  allowedHosts: string[] | undefined;
  allowedOrigins: string[] | undefined;
  webhooks: Record<string, WebhookOptions> | undefined;
  /** In ms: finished runs older than this are purged in the background. */
  retention: number | undefined;
}

export type ConfigKey = keyof CairnConfig;
export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export interface KeySpec {
  /** How flag and environment text becomes the value the key's schema checks. */
  kind: "string" | "int" | "duration" | "list" | "object";
  flag?: string;
  env?: string;
  description: string;
  /** Never printed by `config print`. */
  secret?: boolean;
}

export const configKeys: Record<ConfigKey, KeySpec> = {
  db: {
    kind: "string",
    flag: "--db <url>",
    env: "CAIRN_DB",
    description: "database: sqlite:path/file.db or postgres://… (default: sqlite:.cairn/cairn.db)",
  },
  host: {
    kind: "string",
    flag: "--host <host>",
    env: "CAIRN_HOST",
    description: "address the API listens on (default: 127.0.0.1)",
  },
  port: {
    kind: "int",
    flag: "--port <n>",
    env: "CAIRN_PORT",
    description: "port the API listens on; 0 picks a free one (default: 7420)",
  },
  url: {
    kind: "string",
    flag: "--url <url>",
    env: "CAIRN_URL",
    description: "API of a running cairn dev/server (default: http://127.0.0.1:<port>)",
  },
  token: {
    kind: "string",
    flag: "--token <secret>",
    env: "CAIRN_TOKEN",
    description: "API bearer token",
    secret: true,
  },
  logLevel: {
    kind: "string",
    flag: "--log-level <level>",
    env: "CAIRN_LOG_LEVEL",
    description: `log level: ${logLevels.join(", ")} (default: info)`,
  },
  concurrency: {
    kind: "int",
    flag: "--concurrency <n>",
    env: "CAIRN_CONCURRENCY",
    description: "runs a worker executes at once (default: 100)",
  },
  queue: {
    kind: "string",
    flag: "--queue <names>",
    env: "CAIRN_QUEUE",
    description: "comma-separated queues this worker takes runs from (default: default)",
  },
  drainTimeout: {
    kind: "duration",
    flag: "--drain-timeout <duration>",
    env: "CAIRN_DRAIN_TIMEOUT",
    description: "on SIGTERM/SIGINT, how long in-flight steps may finish, e.g. 30s (default: 10s)",
  },
  bodyLimitBytes: {
    kind: "int",
    flag: "--body-limit <bytes>",
    env: "CAIRN_BODY_LIMIT_BYTES",
    description: "largest HTTP request body the API accepts, in bytes (default: 2 MiB)",
  },
  allowedHosts: {
    kind: "list",
    flag: "--allowed-hosts <list>",
    env: "CAIRN_ALLOWED_HOSTS",
    description: "comma-separated Host headers the API accepts besides loopback",
  },
  allowedOrigins: {
    kind: "list",
    flag: "--allowed-origins <list>",
    env: "CAIRN_ALLOWED_ORIGINS",
    description: "comma-separated browser origins allowed to call the API",
  },
  retention: {
    kind: "duration",
    flag: "--retention <duration>",
    env: "CAIRN_RETENTION",
    description:
      "delete finished runs older than this in the background, e.g. 30d (default: keep them)",
  },
  webhooks: {
    kind: "object",
    secret: true,
    description:
      "webhooks by hook name: secret(s), or { scheme, secrets, toleranceSeconds } (configuration file only)",
  },
};

export const allConfigKeys = Object.keys(configKeys) as ConfigKey[];

/** Adds the flags of `which` configuration keys to a command (no commander defaults). */
export function addConfigOptions(command: Command, which: readonly ConfigKey[]): Command {
  for (const key of which) {
    const spec = configKeys[key];
    if (spec.flag) command.addOption(new Option(spec.flag, spec.description));
  }
  return command;
}
