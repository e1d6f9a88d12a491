import { HttpRequester } from "./http-request.ts";
import {
  errorFromAnswer,
  errorFromResponse,
  RemoteCairnError,
  unavailableError,
} from "./remote-error.ts";
import { readServerSentEvents, type ServerSentEvent } from "./sse.ts";

export interface ConnectOptions {
  /** API token (`cairn tokens create`), sent as `Authorization: Bearer …`. */
  token?: string;
  /**
   * The fetch to use. (Default: `node:http` on kept-alive connections for requests, which
   * costs less CPU than Node's `fetch`, and the global `fetch` for event streams)
   */
  fetch?: typeof fetch;
  /**
   * Gives up on a request that gets no answer in this many ms, with a
   * `RemoteUnavailableError` (`reason: "timeout"`). Event streams are not limited.
   * (Default: no limit)
   */
  timeoutMs?: number;
}

/**
 * The HTTP side of the client, shared by its parts: the token, JSON bodies, error answers as
 * `RemoteCairnError`s, no answer as a `RemoteUnavailableError` naming the URL and the cause.
 */
export class Transport {
  /** The server's base URL, without a trailing slash. */
  readonly url: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  /** Sends the JSON requests where the caller brought no `fetch`. */
  readonly #http: HttpRequester | undefined;
  readonly #timeoutMs: number | undefined;

  constructor(url: string, options: ConnectOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#http = options.fetch ? undefined : new HttpRequester();
    this.#timeoutMs = options.timeoutMs;
  }

  /** The limit on a request's answer, in ms, if the caller set one. */
  get timeoutMs(): number | undefined {
    return this.#timeoutMs;
  }

  /** Sends a JSON request; resolves to the status and the parsed answer. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const init = {
      method,
      headers: this.#headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.#timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(this.#timeoutMs) }),
    };
    let status: number;
    let text: string;
    try {
      if (this.#http) {
        ({ status, text } = await this.#http.send(`${this.url}${path}`, init));
        if (status < 200 || status > 299) throw errorFromAnswer(status, text);
      } else {
        const response = await this.#fetch(`${this.url}${path}`, init);
        if (!response.ok) throw await errorFromResponse(response);
        status = response.status;
        text = await response.text();
      }
    } catch (error) {
      if (error instanceof RemoteCairnError) throw error;
      throw unavailableError(this.url, error, this.#timeoutMs);
    }
    return { status, body: (text === "" ? undefined : JSON.parse(text)) as T };
  }

  /**
   * Opens an event stream and resolves once the server accepted it; events then go to
   * `onEvent` until `signal` aborts or the stream ends (quietly, also when it breaks).
   */
  async stream(
    path: string,
    onEvent: (event: ServerSentEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let response: Response;
    try {
      response = await this.#fetch(`${this.url}${path}`, {
        headers: this.#headers({ Accept: "text/event-stream" }),
        signal,
      });
    } catch (error) {
      throw unavailableError(this.url, error, undefined);
    }
    if (!response.ok || !response.body) throw await errorFromResponse(response);
    void readServerSentEvents(response.body, onEvent, signal).catch(() => {
      // The server went away: the caller re-reads state for the truth.
    });
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    return this.#token === undefined ? extra : { ...extra, Authorization: `Bearer ${this.#token}` };
  }
}
