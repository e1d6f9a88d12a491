import { RemoteCairnError } from "../client/remote-error.ts";
import { CairnError } from "../core/errors.ts";

/**
 * Exit codes of every `cairn` command: 0 ok, 1 a run failed (or the command itself failed:
 * a diverged replay, an unreachable database), 2 a usage error (bad flags or arguments,
 * malformed JSON, an invalid configuration, an unknown workflow, run, schedule or token).
 */
export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the command was called; exits 2 with the message. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command did its job but the outcome is a failure (a failed run, a divergence); exits 1. */
export class CommandFailedError extends Error {
  override name = "CommandFailedError";
}

/** Engine error codes that mean the caller asked for something wrong, not that work failed. */
const usageCodes = new Set([
  "INVALID_INPUT",
  "INVALID_ARGUMENT",
  "WORKFLOW_NOT_FOUND",
  "RUN_NOT_FOUND",
  "NOT_FOUND",
  "INVALID_STATE",
  "PAYLOAD_TOO_LARGE",
  "SERIALIZATION",
  "FLOW_INVALID",
  "LIMIT_EXCEEDED",
]);

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return exitCodes.usage;
  if (CairnError.is(error) && usageCodes.has(error.code)) return exitCodes.usage;
  const status = (error as { status?: unknown }).status;
  // HTTP API errors: 4xx is the caller's mistake (unknown workflow, bad input, no token).
  if (typeof status === "number" && status >= 400 && status < 500) return exitCodes.usage;
  return exitCodes.failed;
}

/** What `error: …` says of an error that ended a command; an API's answer names its status. */
export function messageOf(error: unknown): string {
  if (error instanceof RemoteCairnError) return `${error.message} (HTTP ${error.status})`;
  return error instanceof Error ? error.message : String(error);
}

/** Parses a JSON flag value; the error names the flag and what is wrong with the text. */
export function parseJsonFlag(flag: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Parses a positive integer flag value. */
export function parsePositiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${text}".`);
  }
  return n;
}
