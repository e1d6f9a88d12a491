import { useEffect, useRef } from "react";
import { openEventStream } from "../api/event-stream.ts";
import type { SseMessage } from "../api/sse-parser.ts";
import { reportStreamState } from "./connection-store.ts";

/** A parsed stream update: `run`, `step` or `log` with its JSON data. */
export interface LiveUpdate {
  type: string;
  data: Record<string, unknown>;
}

/**
 * Keeps an event stream open while the component is mounted (null path: none), passing
 * each update to the latest `onUpdate` and calling `onResume` after a reconnect.
 */
export function useEventStream(
  path: string | null,
  onUpdate: (update: LiveUpdate) => void,
  onResume: () => void,
): void {
  const handlers = useRef({ onUpdate, onResume });
  handlers.current = { onUpdate, onResume };
  useEffect(() => {
    if (path === null) return;
    const id = Symbol(path);
    const close = openEventStream(path, {
      onMessage(message: SseMessage) {
        let data: Record<string, unknown>;
        try {
          data = JSON.parse(message.data) as Record<string, unknown>;
        } catch {
          return;
        }
        handlers.current.onUpdate({ type: message.event, data });
      },
      onState: (state) => reportStreamState(id, state),
      onResume: () => handlers.current.onResume(),
    });
    return () => {
      close();
      reportStreamState(id, undefined);
    };
  }, [path]);
}
