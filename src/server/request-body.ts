import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { jsonTooDeep, maxJsonDepth } from "./json-depth.ts";
import { HttpProblem } from "./problems.ts";

/** `application/json` or `application/<x>+json`, with parameters: what the validators accept. */
const jsonContentType = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * Reads the raw body, failing with 413 as soon as it is known to be over `limit`: at once
 * from `Content-Length`, otherwise (a chunked upload) when the running byte count passes the
 * limit. The rest of an oversized chunked upload is never buffered, only read and dropped
 * (see `discardRest`).
 */
export async function readBodyWithLimit(c: Context<AppEnv>, limit: number): Promise<Uint8Array> {
  const declared = c.req.header("content-length");
  if (declared !== undefined) {
    if (!/^\d{1,15}$/.test(declared.trim())) {
      throw new HttpProblem(
        "invalid_request",
        `Content-Length "${declared.slice(0, 32)}" is not a byte count.`,
      );
    }
    if (Number(declared) > limit) throw tooLarge(Number(declared), limit);
    // Node's parser delivers exactly the declared length, so the limit holds without
    // counting; read in one piece, the Node adapter skips the web stream it would otherwise
    // build around the request (a tenth of an HTTP start's CPU).
    try {
      return new Uint8Array(await c.req.raw.arrayBuffer());
    } catch {
      throw new HttpProblem("invalid_request", "The request body ended before it was complete.");
    }
  }
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      throw new HttpProblem("invalid_request", "The request body ended before it was complete.");
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      void discardRest(reader);
      throw tooLarge(undefined, limit);
    }
    chunks.push(value);
  }
  reader.releaseLock();
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

// What is read and dropped of an oversized upload before its connection is cut.
const maxDiscardBytes = 64 * 1024 * 1024;
const maxDiscardMs = 5_000;

/**
 * Reads and drops the rest of an oversized body while the 413 goes out. Cancelling at once
 * would reset the connection before the client reads the answer; leaving the stream alone
 * would let the adapter queue the rest of the upload in memory. Past a bound, it cancels.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const deadline = Date.now() + maxDiscardMs;
  let dropped = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      dropped += value.byteLength;
      if (dropped > maxDiscardBytes || Date.now() > deadline) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away: nothing left to drop.
  }
}

function tooLarge(declared: number | undefined, limit: number): HttpProblem {
  return new HttpProblem(
    "body_too_large",
    declared === undefined
      ? `The request body is more than ${limit} bytes, the server's limit.`
      : `The request body is ${declared} bytes, over the server's limit of ${limit} bytes.`,
  );
}

/**
 * Parses UTF-8 JSON text, rejecting what must never reach a handler: invalid UTF-8 and
 * nesting deeper than {@link maxJsonDepth} (checked before parsing, without recursion).
 */
export function parseJsonText(bytes: Uint8Array, what: string): { value: unknown; text: string } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new HttpProblem("invalid_json", `The ${what} is not valid UTF-8.`);
  }
  if (text.trim() === "")
    throw new HttpProblem("invalid_json", `The ${what} is empty; send a JSON document.`);
  if (jsonTooDeep(text)) {
    throw new HttpProblem(
      "too_deep",
      `The ${what} nests arrays or objects more than ${maxJsonDepth} levels deep.`,
    );
  }
  try {
    return { value: JSON.parse(text), text };
  } catch (error) {
    const reason = error instanceof Error ? error.message.slice(0, 200) : "syntax error";
    throw new HttpProblem("invalid_json", `The ${what} is not valid JSON: ${reason}.`);
  }
}

/**
 * Route middleware for JSON bodies: enforces the size limit while reading, the content
 * type, UTF-8 and the depth limit, then leaves the checked text where Hono's validator reads
 * it (`bodyCache.text`), so the zod schema validates exactly what was checked.
 * With `optional`, an empty body (without a Content-Type or with a JSON one) stands for `{}`.
 */
export function jsonBody(limit: number, mode: "required" | "optional"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const contentType = c.req.header("content-type");
    const isJson = contentType !== undefined && jsonContentType.test(contentType);
    // Refused before a byte is read, except the one case where the body must be seen:
    // an optional body without a Content-Type is fine only when empty.
    if (!isJson && (contentType !== undefined || mode === "required")) throw notJson(contentType);
    const bytes = await readBodyWithLimit(c, limit);
    if (mode === "optional" && bytes.byteLength === 0) {
      // Without a Content-Type the route's validator supplies `{}` itself; with one, it parses.
      setCachedText(c, isJson ? "{}" : "");
      return next();
    }
    if (!isJson) throw notJson(contentType);
    const { value, text } = parseJsonText(bytes, "request body");
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new HttpProblem("invalid_request", "The request body must be a JSON object.");
    }
    setCachedText(c, text);
    return next();
  };
}

function notJson(contentType: string | undefined): HttpProblem {
  return new HttpProblem(
    "invalid_json",
    `The request body must be JSON sent with "Content-Type: application/json"; got ${
      contentType === undefined ? "no Content-Type" : `"${contentType.slice(0, 100)}"`
    }.`,
  );
}

/** Hono types `bodyCache.text` as a string, but stores (and reads) the promise of one. */
function setCachedText(c: Context<AppEnv>, text: string): void {
  (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
}
