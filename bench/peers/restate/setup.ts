/**
 * Imported before @restatedev/restate-sdk, which reads both of these when it loads.
 *
 * The SDK logs two INFO lines per invocation to the console by default; at WARN the bench
 * measures the engine, not console output (as Cairn's and DBOS's benches run with logging off).
 */
process.env.RESTATE_LOGGING ??= "WARN";

/*
 * @restatedev/restate-sdk 1.17 calls Promise.withResolvers, which Node has only from 22 on
 * (the package declares no engines). Node 20 gets the same semantics here; imported before the
 * SDK so it is in place when the first invocation arrives.
 */
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== "function") {
  P.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>["resolve"];
    let reject!: Resolvers<T>["reject"];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
