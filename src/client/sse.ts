/** One server-sent event. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Reads a `text/event-stream` body and calls `onEvent` per event until the stream ends or
 * `signal` aborts. Comments (heartbeats) are skipped. Node 20 has no `EventSource`, and this
 * is all the client needs of one.
 */
export async function readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: ServerSentEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const stop = () => void reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  let id: string | undefined;
  const dispatch = () => {
    if (data.length > 0)
      onEvent({ event, data: data.join("\n"), ...(id === undefined ? {} : { id }) });
    event = "message";
    data = [];
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let newline = buffer.search(/\r\n|\r|\n/);
      // A lone "\r" at the end may be half of a "\r\n" split across chunks: wait for more.
      while (newline !== -1 && !(buffer[newline] === "\r" && newline === buffer.length - 1)) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") dispatch();
        else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
          else if (field === "id") id = text;
        }
        newline = buffer.search(/\r\n|\r|\n/);
      }
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
