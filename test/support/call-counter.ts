/** Counts the calls of a callback; `next()` resolves at the next one (tests wait for events, not time). */
export function callCounter() {
  let count = 0;
  let waiting: (() => void) | undefined;
  return {
    call: () => {
      count++;
      waiting?.();
    },
    next: () => new Promise<void>((resolve) => (waiting = resolve)),
    get count() {
      return count;
    },
  };
}
