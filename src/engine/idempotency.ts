import { type Duration, toMs } from "../core/duration.ts";
import { ConfigError } from "../core/errors.ts";
import type { IdempotencyOptions } from "../core/workflow.ts";
import type { NewRun } from "../store/store.ts";
import { keyOf } from "./flow-control.ts";

/** `idempotency` as `cairn.start` takes it: the key may be given outright. */
export interface StartIdempotency<TInput = unknown> {
  key: string | ((input: TInput) => string | number);
  ttl: Duration;
}

/**
 * Checks an `idempotency` option where it is given (`where` names it), so a malformed one
 * fails at definition or at the start, not silently.
 * @throws ConfigError naming the bad field.
 */
export function checkIdempotency(
  option: IdempotencyOptions<never> | StartIdempotency<never> | undefined,
  where: string,
): void {
  if (option === undefined) return;
  if (option === null || typeof option !== "object") {
    throw new ConfigError(`${where}: idempotency must be an object { key, ttl }.`);
  }
  const known = new Set(["key", "ttl"]);
  for (const field of Object.keys(option)) {
    if (!known.has(field)) {
      throw new ConfigError(`${where}: unknown option idempotency.${field} (known: key, ttl).`);
    }
  }
  const { key, ttl } = option;
  if (typeof key !== "function" && (typeof key !== "string" || key === "")) {
    throw new ConfigError(
      `${where}: idempotency.key must be a function of the input (or, on start, a non-empty string).`,
    );
  }
  let ms: number;
  try {
    ms = toMs(ttl, `${where}: idempotency.ttl`);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (ms <= 0) throw new ConfigError(`${where}: idempotency.ttl must be longer than 0.`);
}

/**
 * The idempotency of a new run: its key (per workflow) and window. A start's own option
 * wins over the workflow's.
 * @throws CairnError `INVALID_INPUT` when the key function returns something unusable.
 */
export function idempotencyFor(
  option: IdempotencyOptions<unknown> | StartIdempotency<unknown> | undefined,
  input: unknown,
): NewRun["idempotency"] {
  if (!option) return null;
  const key =
    typeof option.key === "string"
      ? keyOf(() => option.key, input, "idempotency")
      : keyOf(option.key, input, "idempotency");
  if (key === "") return null;
  return { key, ttlMs: toMs(option.ttl, "idempotency.ttl") };
}
