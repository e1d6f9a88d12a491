import { describe, expect, it } from "vitest";
import type { RunId } from "../../core/types.ts";
import { formatEngineEvent, formatLogRecord, plain } from "./pretty-format.ts";

const at = new Date(2026, 11, 3, 13, 4, 5).getTime();
const runId = "r1" as RunId;

describe("pretty dev logs", () => {
  it("give a step its duration, a retry its reason, a finished run its time and output", () => {
    const step = {
      type: "step",
      runId,
      workflow: "w",
      key: "charge",
      kind: "step",
      attempt: 1,
      at,
    } as const;
    expect(formatEngineEvent({ ...step, status: "completed", durationMs: 12 }, plain)).toBe(
      "13:04:05 ✓ w r1 › charge 12 ms",
    );
    expect(
      formatEngineEvent(
        { ...step, status: "retrying", error: { name: "Error", message: "503" } },
        plain,
      ),
    ).toBe("13:04:05 ↻ w r1 › charge attempt 1 failed: Error: 503 — retrying");
    expect(formatEngineEvent({ ...step, status: "started" }, plain)).toBeNull();
    expect(
      formatEngineEvent({ type: "run", runId, workflow: "w", status: "completed", at }, plain, {
        runStartedAt: at - 1_500,
        output: { ok: true },
      }),
    ).toBe('13:04:05 ✔ w r1 completed in 1.5 s → {"ok":true}');
  });

  it("turn pino records into one line with their fields", () => {
    const line = JSON.stringify({ level: 40, time: at, pid: 1, msg: "slow", runId: "r1" });
    expect(formatLogRecord(line, plain)).toBe("13:04:05 warn slow runId=r1");
  });
});
