import { authHeaders, unauthorizedEvent } from "./client.ts";
import { parseSse, type SseMessage } from "./sse-parser.ts";
import { clearToken } from "./token-store.ts";

export type StreamState = "connecting" | "open" | "reconnecting";

export interface StreamHandlers {
  onMessage(message: SseMessage): void;
  onState(state: StreamState): void;
  /** A connection opened after a lost one: what happened in between must be re-read. */
  onResume(): void;
}

const maxDelayMs = 15_000;

/**
 * Reads a server-sent-event stream with `fetch` (EventSource cannot send the bearer header),
 * reconnecting with exponential backoff and `Last-Event-ID`. Returns the function that
 * closes it. A 401 stops it and sends the app to sign-in.
 */
export function openEventStream(path: string, handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  let lastId: string | undefined;
  let failures = 0;
  let wasOpen = false;

  const run = async () => {
    while (!controller.signal.aborted) {
      handlers.onState(failures === 0 && !wasOpen ? "connecting" : "reconnecting");
      try {
        const response = await fetch(path, {
          headers: {
            Accept: "text/event-stream",
            ...authHeaders(),
            ...(lastId ? { "Last-Event-ID": lastId } : {}),
          },
          signal: controller.signal,
          cache: "no-store",
        });
        if (response.status === 401) {
          clearToken();
          window.dispatchEvent(
            new CustomEvent(unauthorizedEvent, { detail: "Your session token was refused." }),
          );
          return;
        }
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        handlers.onState("open");
        if (wasOpen || failures > 0) handlers.onResume();
        wasOpen = true;
        failures = 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const { messages, rest } = parseSse(buffer + value);
          buffer = rest;
          for (const message of messages) {
            if (message.id) lastId = message.id;
            handlers.onMessage(message);
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        void error;
      }
      if (controller.signal.aborted) return;
      failures++;
      handlers.onState("reconnecting");
      const delay = Math.min(maxDelayMs, 500 * 2 ** Math.min(failures, 5));
      await sleep(delay * (0.75 + Math.random() * 0.5), controller.signal);
    }
  };
  void run();
  return () => controller.abort();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
