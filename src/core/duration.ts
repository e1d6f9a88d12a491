/** A duration as milliseconds or a string such as `"500ms"`, `"30s"`, `"10m"`, `"1h"`, `"7d"`. */
export type Duration = number | `${number}${DurationUnit}`;
/** The units a {@link Duration} string may end with. */
export type DurationUnit = "ms" | "s" | "m" | "h" | "d" | "w";

const unitMs: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a {@link Duration} into milliseconds; throws a TypeError naming the bad value. */
export function toMs(duration: Duration, what = "duration"): number {
  if (typeof duration === "number") {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new TypeError(`Invalid ${what} ${duration}: expected a non-negative number of ms.`);
    }
    return duration;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(String(duration));
  if (!match) {
    throw new TypeError(
      `Invalid ${what} "${duration}": expected a number of ms or a string like "500ms", "30s", "10m", "1h", "7d".`,
    );
  }
  return Math.round(Number(match[1]) * unitMs[match[2] as DurationUnit]);
}
