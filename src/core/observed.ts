/**
 * Marks `promise` as observed and returns it unchanged: whoever awaits it still gets its
 * rejection, but a rejection that arrives before they attach a handler (a run's result
 * settling while the caller is still awaiting its `cancel`) is not reported to the process
 * as unhandled, which would end it by default.
 */
export function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
