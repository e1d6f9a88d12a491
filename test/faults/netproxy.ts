/**
 * A TCP proxy on loopback between engine processes and PostgreSQL, to cut the network
 * without root (Toxiproxy-like). Modes:
 * - `pass`: bytes flow both ways;
 * - `blackhole`: every socket stays open and nothing is forwarded — the nastiest real
 *   failure: no error, no FIN, no RST, just silence. Bytes wait in the kernel's buffers (both
 *   sides are paused) and flow again on `pass`, as TCP retransmission delivers them once a
 *   partition heals. New connections are accepted and wait the same way;
 * - `reset()`: every connection is reset (RST) on both sides;
 * - `latency`: every chunk is held this many ms before it is forwarded.
 */
import net from "node:net";

export type ProxyMode = "pass" | "blackhole";

interface Pipe {
  client: net.Socket;
  server: net.Socket;
}

export class NetProxy {
  readonly port: number;
  #mode: ProxyMode = "pass";
  #latencyMs = 0;
  readonly #listener: net.Server;
  readonly #pipes = new Set<Pipe>();

  private constructor(listener: net.Server, port: number) {
    this.#listener = listener;
    this.port = port;
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<NetProxy> {
    const accepted: net.Socket[] = [];
    let proxy: NetProxy | undefined;
    const listener = net.createServer({ pauseOnConnect: true }, (client) => {
      if (proxy) proxy.#open(client, target);
      else accepted.push(client);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(0, "127.0.0.1", resolve);
    });
    proxy = new NetProxy(listener, (listener.address() as net.AddressInfo).port);
    for (const client of accepted) proxy.#open(client, target);
    return proxy;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Connections open now. */
  get connections(): number {
    return this.#pipes.size;
  }

  /** Forwards nothing more, keeping every socket open. */
  blackhole(): void {
    this.#mode = "blackhole";
    for (const { client, server } of this.#pipes) {
      client.pause();
      server.pause();
    }
  }

  /** Forwards again, starting with what waited. */
  pass(): void {
    this.#mode = "pass";
    for (const { client, server } of this.#pipes) {
      client.resume();
      server.resume();
    }
  }

  /** Resets every connection open now, on both sides. */
  reset(): void {
    for (const { client, server } of this.#pipes) {
      client.resetAndDestroy();
      server.resetAndDestroy();
    }
    this.#pipes.clear();
  }

  /** Holds every chunk `ms` before forwarding it (0: none). */
  latency(ms: number): void {
    this.#latencyMs = ms;
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.#listener.close(() => resolve()));
  }

  #open(client: net.Socket, target: { host: string; port: number }): void {
    const server = net.connect({ host: target.host, port: target.port });
    server.pause();
    const pipe = { client, server };
    this.#pipes.add(pipe);
    const drop = () => {
      if (!this.#pipes.delete(pipe)) return;
      client.destroy();
      server.destroy();
    };
    for (const socket of [client, server]) {
      socket.on("error", drop);
      socket.on("close", drop);
    }
    this.#forward(client, server);
    this.#forward(server, client);
    if (this.#mode === "pass") {
      client.resume();
      server.resume();
    }
  }

  /** Copies `from` to `to` in order, each chunk delayed by the latency set when it arrived. */
  #forward(from: net.Socket, to: net.Socket): void {
    let tail = Promise.resolve();
    let held = 0;
    from.on("data", (chunk) => {
      const ms = this.#latencyMs;
      if (ms === 0 && held === 0) {
        to.write(chunk);
        return;
      }
      held++;
      tail = tail.then(async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        held--;
        if (!to.destroyed) to.write(chunk);
      });
    });
    from.on("end", () => {
      void tail.then(() => to.end());
    });
  }
}
