/**
 * Lets timers, I/O and other requests run before the caller goes on: long duties (backfills,
 * fan-outs) await this between bounded chunks of work, so no one of them holds the event loop
 * for long. `setImmediate` runs after pending I/O callbacks, unlike a resolved promise.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
