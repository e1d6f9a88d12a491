import superjson from "superjson";
import {
  CairnError,
  ContextInStepError,
  isErrorCode,
  LeaseLostError,
  NonDeterminismError,
  NonRetryableError,
  PayloadTooLargeError,
  PoisonRunError,
  RunCancelledError,
  RunTimeoutError,
  SerializationError,
  StepTimeoutError,
  UnawaitedCallError,
} from "./errors.ts";
import { InvalidNameError } from "./names.ts";

/**
 * Step inputs and outputs are stored as superjson text: plain JSON plus a `meta` section
 * that restores Date, BigInt, Map, Set, RegExp, undefined and Error on the way back.
 * Functions and symbols are not data and fail with a {@link SerializationError}.
 */
export function serialize(value: unknown, what: string, limitBytes: number): string {
  let text: string;
  try {
    assertSerializable(value, new Set());
    text = superjson.stringify(value);
  } catch (error) {
    if (error instanceof CairnError) throw error;
    throw new SerializationError(what, error);
  }
  // Length in UTF-16 units is a cheap lower bound; only measure bytes near the limit.
  if (text.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > limitBytes) throw new PayloadTooLargeError(what, bytes, limitBytes);
  }
  return text;
}

export function deserialize<T = unknown>(text: string | null | undefined): T {
  if (text === null || text === undefined) return undefined as T;
  return superjson.parse<T>(text);
}

function assertSerializable(value: unknown, seen: Set<object>): void {
  if (typeof value === "function") throw new TypeError("a function is not data");
  if (typeof value === "symbol") throw new TypeError("a symbol is not data");
  if (value === null || typeof value !== "object") return;
  if (seen.has(value)) throw new TypeError("the value contains a circular reference");
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertSerializable(k, seen);
      assertSerializable(v, seen);
    }
  } else if (value instanceof Set || Array.isArray(value)) {
    for (const v of value) assertSerializable(v, seen);
  } else if (!(value instanceof Date) && !(value instanceof Error) && !(value instanceof RegExp)) {
    for (const v of Object.values(value)) assertSerializable(v, seen);
  }
  seen.delete(value);
}

/** The recorded form of an error: enough to show it and to rethrow an equivalent. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

const maxMessage = 64 * 1024;
const maxStack = 16 * 1024;

export function serializeError(error: Error): string {
  const record: SerializedError = {
    name: String(error.name ?? "Error"),
    message: String(error.message ?? "").slice(0, maxMessage),
  };
  if (typeof error.stack === "string") record.stack = error.stack.slice(0, maxStack);
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") record.code = code;
  return JSON.stringify(record);
}

export function parseSerializedError(text: string): SerializedError {
  return JSON.parse(text) as SerializedError;
}

/** Rebuilds a recorded error, as an instance of Cairn's own class where it was one. */
export function deserializeError(text: string): Error {
  const record = parseSerializedError(text);
  let error: Error;
  switch (record.name) {
    case "NonRetryableError":
      error = new NonRetryableError(record.message);
      break;
    case "NonDeterminismError":
      error = Object.create(NonDeterminismError.prototype) as Error;
      break;
    case "StepTimeoutError":
      error = Object.create(StepTimeoutError.prototype) as Error;
      break;
    case "RunTimeoutError":
      error = Object.create(RunTimeoutError.prototype) as Error;
      break;
    case "RunCancelledError":
      error = Object.create(RunCancelledError.prototype) as Error;
      break;
    case "LeaseLostError":
      error = Object.create(LeaseLostError.prototype) as Error;
      break;
    case "PayloadTooLargeError":
      error = Object.create(PayloadTooLargeError.prototype) as Error;
      break;
    case "PoisonRunError":
      error = Object.create(PoisonRunError.prototype) as Error;
      break;
    case "SerializationError":
      error = Object.create(SerializationError.prototype) as Error;
      break;
    case "UnawaitedCallError":
      error = Object.create(UnawaitedCallError.prototype) as Error;
      break;
    case "ContextInStepError":
      error = Object.create(ContextInStepError.prototype) as Error;
      break;
    case "InvalidNameError":
      error = Object.create(InvalidNameError.prototype) as Error;
      break;
    default:
      // Only Cairn's own codes make a CairnError; a driver's or Node's coded error stays an Error.
      error = isErrorCode(record.code)
        ? new CairnError(record.code, record.message)
        : new Error(record.message);
  }
  Object.defineProperty(error, "message", { value: record.message, writable: true });
  Object.defineProperty(error, "name", { value: record.name, writable: true });
  if (record.code) Object.defineProperty(error, "code", { value: record.code, writable: true });
  Object.defineProperty(error, "stack", {
    value: record.stack ?? `${record.name}: ${record.message}`,
    writable: true,
  });
  return error;
}
