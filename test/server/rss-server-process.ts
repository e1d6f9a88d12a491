import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const serverScript = fileURLToPath(new URL("./rss-server.ts", import.meta.url));

export interface RssServerProcess {
  readonly child: ChildProcess;
  /** The server's base URL, once it listens. */
  url(): Promise<string>;
  /** The server's RSS in bytes, read there after a GC (it answers SIGUSR2 on stdout). */
  rss(): Promise<number>;
}

/**
 * Starts `rss-server.ts` in a child process of its own, so its memory is measured apart
 * from the test runner's. `env` goes beside the test's own environment (`CAIRN_DB`, say).
 */
export function startRssServer(env: NodeJS.ProcessEnv = {}): RssServerProcess {
  // Sweeping on the main thread, inside the GC that `rss()` asks for: with concurrent sweeping
  // the old space's emptied pages were still committed when RSS was read, up to 55 MB of them
  // after a burst of requests while the heap in use had grown by 4 MB.
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--no-concurrent-sweeping", "--import", "tsx", serverScript],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[
    Symbol.asyncIterator
  ]();
  const next = async (prefix: string) => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error("the server process ended");
      if (value.startsWith(prefix)) return value.slice(prefix.length);
    }
  };
  return {
    child,
    url: () => next("url "),
    async rss() {
      child.kill("SIGUSR2");
      return Number(await next("rss "));
    },
  };
}
