/** Runs `fn`, retrying for up to `timeoutMs` while SQLite answers SQLITE_BUSY. */
export function retryWhileBusy(fn: () => void, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fn();
      return;
    } catch (error) {
      const busy = (error as { code?: string }).code?.startsWith("SQLITE_BUSY");
      if (!busy || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 20); // a synchronous sleep: the constructor is synchronous
    }
  }
}
