import { CairnError } from "../core/errors.ts";
import { defaultLogLimits, type LogLimits } from "../worker/step-logger.ts";

export interface LogOptions {
  /** Lines kept per step attempt; a last line marks the truncation. (Default: 1000) */
  maxPerStep?: number;
  /** Bytes of messages and fields kept per step attempt. (Default: 256 KiB) */
  maxBytes?: number;
  /** Record what steps print with `console.*` as their logs (still printed). (Default: true) */
  captureConsole?: boolean;
}

/** The `logs` option with its defaults, checked. @throws CairnError `INVALID_ARGUMENT` */
export function resolveLogOptions(options: LogOptions = {}): {
  limits: LogLimits;
  captureConsole: boolean;
} {
  const limits = {
    maxPerStep: options.maxPerStep ?? defaultLogLimits.maxPerStep,
    maxBytes: options.maxBytes ?? defaultLogLimits.maxBytes,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new CairnError(
        "INVALID_ARGUMENT",
        `Cairn option logs.${name} must be a positive integer, got ${value}.`,
      );
    }
  }
  return { limits, captureConsole: options.captureConsole ?? true };
}
