import { describe, expect, it } from "vitest";
import { AttemptSignal, type RunAbort } from "../src/worker/attempt-signal.ts";

/** A run's abort as RunExecution gives it: a signal and a set of listeners it calls. */
function runAbort(): RunAbort & { abort(reason: Error): void; listeners: Set<() => void> } {
  const controller = new AbortController();
  const listeners = new Set<() => void>();
  controller.signal.addEventListener("abort", () => {
    for (const listener of listeners) listener();
  });
  return {
    signal: controller.signal,
    listeners,
    onAbort(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    abort: (reason) => controller.abort(reason),
  };
}

describe("a step attempt's signal, made on first read", () => {
  it("made after the attempt was aborted, it is aborted with that reason", () => {
    const run = runAbort();
    const attempt = new AttemptSignal(run);
    const timeout = new Error("timed out");
    attempt.abort(timeout);
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.signal.reason).toBe(timeout);
  });

  it("made after the run was aborted, it carries the run's reason", () => {
    const run = runAbort();
    const attempt = new AttemptSignal(run);
    const cancelled = new Error("cancelled");
    run.abort(cancelled);
    expect(attempt.signal.reason).toBe(cancelled);
  });

  it("follows the run's abort while the attempt runs, and stops listening once it ended", () => {
    const run = runAbort();
    const attempt = new AttemptSignal(run);
    const { signal } = attempt;
    expect(run.listeners.size).toBe(1);
    const cancelled = new Error("cancelled");
    run.abort(cancelled);
    expect(signal.reason).toBe(cancelled);

    const later = runAbort();
    const ended = new AttemptSignal(later);
    const kept = ended.signal;
    ended.detach();
    expect(later.listeners.size).toBe(0);
    later.abort(new Error("after the attempt"));
    expect(kept.aborted).toBe(false);
  });

  it("costs the run no listener when the step never reads it", () => {
    const run = runAbort();
    const attempt = new AttemptSignal(run);
    attempt.abort(new Error("ended"));
    attempt.detach();
    expect(run.listeners.size).toBe(0);
  });
});
