import { ContextInStepError, UnawaitedCallError } from "../core/errors.ts";
import type { RunId } from "../core/types.ts";
import { currentStepScope, runInRunScope } from "./step-scope.ts";

/** One `ctx` call that returned a promise, until the workflow observes (awaits) it. */
interface PendingCall {
  /** The method and its arguments, to name the call in an error: `ctx.step("charge")`. */
  readonly method: string;
  readonly args: readonly unknown[];
  /** The turn it was made in (see CallGuard). */
  readonly turn: number;
  observed: boolean;
  promise?: Promise<unknown>;
}

/**
 * The promise a guarded `ctx` call returns: the call's own, plus a note of whether anyone
 * subscribed to it. `await`, `Promise.all`, `.catch` and `.finally` all go through `then`
 * (a subclass is not adopted as-is by `await`, so its `then` is called).
 */
class CallPromise<T> extends Promise<T> {
  // Promises derived from this one (then, catch, finally) are plain ones.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #pending: PendingCall | undefined;

  static of<T>(inner: Promise<T>, pending: PendingCall): CallPromise<T> {
    const promise = new CallPromise<T>((resolve, reject) => {
      inner.then(resolve, reject);
    });
    promise.#pending = pending;
    return promise;
  }

  // biome-ignore lint/suspicious/noThenProperty: noting the subscription is the point
  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.#pending) this.#pending.observed = true;
    return super.then(onFulfilled, onRejected);
  }
}

/**
 * Catches two misuses of `ctx` as they happen, instead of letting them corrupt the run
 * (a step missing from the journal, its side effect after completion) or fail it on a
 * later replay with a misleading non-determinism:
 *
 * - **A call not awaited.** Each call returning a promise is noted with the turn it was
 *   made in: one drain of the microtask queue, ended by a `process.nextTick` (which Node
 *   runs only once the microtasks are done). Calls made in one turn may be awaited
 *   together (`Promise.all`, `Promise.race`: their subscriptions happen in the same
 *   microtasks). A `ctx` call in a later turn finding an earlier call still unobserved,
 *   or the function returning with one, fails the run with {@link UnawaitedCallError}.
 * - **`ctx` inside a step body.** A call made in the async context of one of this run's
 *   step attempts (see step-scope.ts) fails the run with {@link ContextInStepError},
 *   before it takes a journal position.
 *
 * Both failures go through `fail` (which the user's code cannot catch, like a
 * non-determinism) and are also thrown to the caller.
 */
export class CallGuard {
  readonly #runId: RunId;
  readonly #fail: (error: Error) => void;
  #pending: PendingCall[] = [];
  #turn = 0;
  #turnEnding = false;

  constructor(runId: RunId, fail: (error: Error) => void) {
    this.#runId = runId;
    this.#fail = fail;
  }

  /**
   * Runs the workflow function, in its run's scope, with a guarded `ctx`; checks its calls
   * when it returns.
   */
  async run<C extends object, I, O>(
    workflow: { name: string; fn: (ctx: C, input: I) => O | Promise<O> },
    ctx: C,
    input: I,
  ): Promise<O> {
    const guarded = this.context(ctx);
    const value = await runInRunScope(this.#runId, workflow.name, () =>
      workflow.fn(guarded, input),
    );
    const unawaited = this.#pending.find((p) => !p.observed);
    if (unawaited) {
      const call = describeCall(unawaited.method, unawaited.args);
      throw this.#failWith(new UnawaitedCallError(call, "when the workflow returned"));
    }
    return value;
  }

  /**
   * `ctx` as the workflow function sees it: every method goes through {@link CallGuard}'s
   * checks, bound to the real context (its private state is not reachable through a proxy);
   * properties (`runId`, `log`, …) are the context's own.
   */
  context<C extends object>(ctx: C): C {
    const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>();
    return new Proxy(ctx, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        let wrapper = wrappers.get(property);
        if (!wrapper) {
          const method = value as (...args: unknown[]) => unknown;
          wrapper = (...args: unknown[]) =>
            this.#call(String(property), args, () => method.apply(target, args));
          wrappers.set(property, wrapper);
        }
        return wrapper;
      },
    });
  }

  #call(method: string, args: unknown[], invoke: () => unknown): unknown {
    const scope = currentStepScope();
    if (scope?.kind === "step" && scope.runId === this.#runId) {
      throw this.#failWith(new ContextInStepError(describeCall(method, args), scope.step));
    }
    const unawaited = this.#unawaitedFromEarlierTurns();
    if (unawaited) {
      const call = describeCall(unawaited.method, unawaited.args);
      throw this.#failWith(new UnawaitedCallError(call, `before ${describeCall(method, args)}`));
    }
    const result = invoke();
    if (!(result instanceof Promise)) return result;
    const pending: PendingCall = { method, args, turn: this.#turn, observed: false };
    this.#pending.push(pending);
    this.#endTurnSoon();
    const promise = CallPromise.of(result, pending);
    pending.promise = promise;
    return promise;
  }

  /** The first call of an earlier turn nobody subscribed to; forgets the observed ones. */
  #unawaitedFromEarlierTurns(): PendingCall | undefined {
    // Calls are noted in turn order: when the oldest is of this turn, so are all others.
    const oldest = this.#pending[0];
    if (!oldest || oldest.turn === this.#turn) return undefined;
    this.#pending = this.#pending.filter((p) => !p.observed);
    return this.#pending.find((p) => p.turn < this.#turn);
  }

  #endTurnSoon(): void {
    if (this.#turnEnding) return;
    this.#turnEnding = true;
    const ending = this.#turn;
    process.nextTick(() => {
      this.#turnEnding = false;
      this.#turn++;
      // Calls of the turn nobody subscribed to: keep a failure of theirs from becoming an
      // unhandled rejection (the process-wide policy could end the worker); the guard
      // reports the call itself. Node checks for unhandled rejections only after this tick.
      for (let i = this.#pending.length - 1; i >= 0; i--) {
        const pending = this.#pending[i] as PendingCall;
        if (pending.turn !== ending) break;
        if (!pending.observed && pending.promise) {
          Promise.prototype.then.call(pending.promise, undefined, () => {});
        }
      }
    });
  }

  #failWith(error: Error): Error {
    this.#fail(error);
    return error;
  }
}

/** `ctx.step("charge")`, `ctx.now()`: the call as the user wrote it, by its name argument. */
function describeCall(method: string, args: readonly unknown[]): string {
  const name = args[0];
  return typeof name === "string" ? `ctx.${method}(${JSON.stringify(name)})` : `ctx.${method}()`;
}
