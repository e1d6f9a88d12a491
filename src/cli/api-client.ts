/**
 * A small client of the HTTP API for the commands that talk to a running
 * `cairn dev` or `cairn server`. A server that does not answer at all is an
 * {@link ApiUnavailableError}, so a command can fall back to the database.
 */

/** Nothing listens at the URL (connection refused, unknown host, timeout). */
export class ApiUnavailableError extends Error {
  override name = "ApiUnavailableError";
}

/** The server answered with an error status. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One server-sent event. */
export interface StreamMessage {
  event: string | undefined;
  data: string;
}

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#token = token;
  }

  /** Sends a JSON request and returns the parsed JSON answer. @throws ApiError, ApiUnavailableError */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.send<T>(method, path, body)).body;
  }

  /** Like `request`, with the response status (201 Created vs 200 for an existing run). */
  async send<T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await this.#fetch(path, {
      method,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw errorFrom(response, text);
    return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
  }

  /**
   * Opens a server-sent-events stream and resolves once the server accepted it, so the events
   * that follow are not missed. Messages go to `onMessage` until `signal` aborts or the stream
   * ends; a stream that breaks just stops delivering (callers poll for the truth anyway).
   */
  async stream(
    path: string,
    onMessage: (message: StreamMessage) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.#fetch(path, { headers: { accept: "text/event-stream" }, signal });
    if (!response.ok || !response.body) throw errorFrom(response, await response.text());
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of body) {
          buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n");
          let end = buffer.indexOf("\n\n");
          while (end !== -1) {
            const message = parseMessage(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (message) onMessage(message);
            end = buffer.indexOf("\n\n");
          }
        }
      } catch {
        // aborted by the caller, or the server went away
      }
    })();
  }

  async #fetch(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#token) headers.set("authorization", `Bearer ${this.#token}`);
    try {
      return await fetch(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      // Only a connection that never opened proves the request was not received: a command
      // may then fall back to the database without starting anything twice.
      if (code && notConnected.has(code)) {
        throw new ApiUnavailableError(`No Cairn API answers at ${this.baseUrl} (${code}).`);
      }
      if ((error as Error).name === "TimeoutError") {
        throw new Error(`The Cairn API at ${this.baseUrl} did not answer in time.`);
      }
      throw error;
    }
  }
}

const notConnected = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function parseMessage(block: string): StreamMessage | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length === 0 ? undefined : { event, data: data.join("\n") };
}

/** Reads a problem document (RFC 9457: `detail`, `code`) or any JSON or text error body. */
function errorFrom(response: Response, text: string): ApiError {
  let message = text.trim() || response.statusText;
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as {
      detail?: string;
      title?: string;
      message?: string;
      code?: string;
      error?: string | { code?: string; message?: string };
    };
    const nested = typeof body.error === "object" ? body.error : undefined;
    message =
      body.detail ??
      body.message ??
      nested?.message ??
      (typeof body.error === "string" ? body.error : undefined) ??
      body.title ??
      message;
    code = body.code ?? nested?.code;
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(response.status, `${message} (HTTP ${response.status})`, code);
}
