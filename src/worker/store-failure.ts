/**
 * A store call made for a workflow failed (a lost connection, a disk error): no outcome of
 * the workflow, which must not see it. The execution stops and the run resumes from its
 * journal once its lease lapses, as after a failed journal write.
 */
export class StoreFailure extends Error {
  override name = "StoreFailure";

  constructor(cause: unknown) {
    super(`The store failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
