import { useSyncExternalStore } from "react";
import type { StreamState } from "../api/event-stream.ts";

/** The state of every open event stream, so one banner can say "reconnecting". */
const states = new Map<symbol, StreamState>();
const listeners = new Set<() => void>();
let snapshot: StreamState = "open";

function recompute(): void {
  const values = [...states.values()];
  const next: StreamState = values.includes("reconnecting")
    ? "reconnecting"
    : values.includes("connecting")
      ? "connecting"
      : "open";
  if (next !== snapshot) {
    snapshot = next;
    for (const listener of listeners) listener();
  }
}

export function reportStreamState(stream: symbol, state: StreamState | undefined): void {
  if (state === undefined) states.delete(stream);
  else states.set(stream, state);
  recompute();
}

/** The worst state of all open streams. */
export function useConnectionState(): StreamState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => snapshot,
  );
}
