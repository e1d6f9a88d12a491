import { type Duration, toMs } from "../core/duration.ts";
import type { WebhookOptions } from "../server/resolve-webhooks.ts";
import { type ConfigKey, logLevels } from "./config-keys.ts";

/** A value the key accepts (converted, e.g. a duration to ms), or what is wrong with it. */
export type CheckResult = { ok: true; value: unknown } | { ok: false; problem: string };
type Check = (value: unknown) => CheckResult | Promise<CheckResult>;

const ok = (value: unknown): CheckResult => ({ ok: true, value });
const bad = (problem: string): CheckResult => ({ ok: false, problem });

function typeOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

function text(value: unknown): CheckResult {
  if (typeof value !== "string") return bad(`expected string, received ${typeOf(value)}`);
  return value.length > 0 ? ok(value) : bad("expected a non-empty string");
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): Check {
  return (value) => {
    if (typeof value !== "number") return bad(`expected number, received ${typeOf(value)}`);
    if (!Number.isSafeInteger(value)) return bad("expected an integer");
    if (value < min || value > max) {
      return bad(
        max === Number.MAX_SAFE_INTEGER ? `expected >= ${min}` : `expected ${min} to ${max}`,
      );
    }
    return ok(value);
  };
}

const httpUrl: Check = (value) => {
  const checked = text(value);
  if (!checked.ok) return checked;
  try {
    const { protocol } = new URL(value as string);
    if (protocol === "http:" || protocol === "https:") return ok(value);
  } catch {
    // not a URL at all: same answer
  }
  return bad("expected an http:// or https:// URL");
};

const logLevel: Check = (value) =>
  (logLevels as readonly unknown[]).includes(value)
    ? ok(value)
    : bad(`expected one of ${logLevels.join(", ")}`);

const duration: Check = (value) => {
  if (typeof value !== "number" && typeof value !== "string") {
    return bad(`expected number or string, received ${typeOf(value)}`);
  }
  try {
    return ok(toMs(value as Duration));
  } catch (error) {
    return bad((error as Error).message);
  }
};

const list: Check = (value) => {
  if (!Array.isArray(value)) return bad(`expected array, received ${typeOf(value)}`);
  const empty = value.findIndex((item) => typeof item !== "string" || item.length === 0);
  return empty === -1 ? ok(value) : bad(`item ${empty}: expected a non-empty string`);
};

// The server's own check, so the file and `startServer` options refuse the same things;
// loaded only when webhooks are configured.
const webhooks: Check = async (value) => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return bad(`expected object, received ${typeOf(value)}`);
  }
  const { resolveWebhooks } = await import("../server/resolve-webhooks.ts");
  try {
    resolveWebhooks(value as Record<string, WebhookOptions>);
    return ok(value);
  } catch (error) {
    return bad((error as Error).message);
  }
};

/**
 * What each key accepts, whichever layer it comes from. Plain checks rather than a schema
 * library: every command resolves its configuration, and `cairn runs list` should not pay
 * for loading one.
 */
export const configChecks: Record<ConfigKey, Check> = {
  db: text,
  host: text,
  port: integer(0, 65_535),
  url: httpUrl,
  token: text,
  logLevel,
  concurrency: integer(1),
  queue: text,
  drainTimeout: duration,
  bodyLimitBytes: integer(1),
  allowedHosts: list,
  allowedOrigins: list,
  webhooks,
  retention: duration,
};
