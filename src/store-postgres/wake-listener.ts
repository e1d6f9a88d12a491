import { randomBytes } from "node:crypto";
import type { Sql } from "postgres";

export interface WakeListenerOptions {
  /** The SQL expression that names the channel (see `wakeChannel`, `endedChannel`). */
  channel: string;
  /** Opens the dedicated one-connection client to listen on. */
  connect: () => Sql;
  /** The store's pool, used to send the health probe. */
  pool: Sql;
  /** How often the listener proves it still receives, in ms. (Default: 5_000) */
  probeMs?: number;
  /** How long a probe may take to come back before the listener is replaced, in ms. (Default: 3_000) */
  probeTimeoutMs?: number;
}

/**
 * `LISTEN` on one of the schema's channels on a dedicated connection that is checked, not trusted. postgres.js
 * listens again after its connection drops, but only once: if the server is still down at
 * that moment, the listener stays dead, silently (and a black-holed connection never even
 * drops). So every `probeMs` the store notifies a channel only this listener listens on,
 * through its pool; a probe that does not come back within `probeTimeoutMs` replaces the
 * connection. Whenever the listener restarts, `onWake` is called without a payload:
 * notifications sent while it was deaf are lost, and the subscriber should look for itself.
 */
export class WakeListener {
  readonly #options: WakeListenerOptions;
  readonly #onWake: (payload?: string) => void;
  readonly #probeChannel = `cairn_probe_${randomBytes(6).toString("hex")}`;
  #sql: Sql | undefined;
  #timer: NodeJS.Timeout | undefined;
  #probe: (() => void) | undefined;
  #stopped = false;
  #restarting = false;

  constructor(options: WakeListenerOptions, onWake: (payload?: string) => void) {
    this.#options = options;
    this.#onWake = (payload) => {
      try {
        onWake(payload);
      } catch {
        // the subscriber's failure must not break the listener
      }
    };
  }

  /** Listens (failing if the first attempt fails) and starts the health checks. */
  async start(): Promise<void> {
    await this.#listen();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sql?.end({ timeout: 1 }).catch(() => {});
  }

  async #listen(): Promise<void> {
    const sql = this.#options.connect();
    this.#sql = sql;
    let listening = false;
    try {
      // The schema's own channel, as this connection's search_path names it.
      const [named] = await sql.unsafe(`SELECT ${this.#options.channel} AS channel`);
      const channel = String(named?.channel);
      // The third argument runs after every LISTEN, including postgres.js's own re-listen
      // after a dropped connection: anything sent meanwhile was lost.
      await sql.listen(
        channel,
        (payload) => this.#onWake(payload),
        () => {
          if (listening) this.#onWake();
          listening = true;
        },
      );
      await sql.listen(this.#probeChannel, () => this.#probe?.());
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), this.#options.probeMs ?? 5_000);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    try {
      let arrived = false;
      let onArrival = () => {};
      this.#probe = () => {
        arrived = true;
        onArrival();
      };
      try {
        await this.#options.pool`SELECT pg_notify(${this.#probeChannel}, '')`;
      } catch {
        return; // the database is unreachable: nothing to listen to yet; try again later
      }
      // Delivered at the probe's commit; give the listener's socket time to bring it.
      if (!arrived) {
        await new Promise<void>((resolve) => {
          const timeout = setTimeout(resolve, this.#options.probeTimeoutMs ?? 3_000);
          timeout.unref();
          onArrival = () => {
            clearTimeout(timeout);
            resolve();
          };
        });
      }
      if (!arrived && !this.#stopped) await this.#restart();
    } finally {
      this.#probe = undefined;
      this.#schedule();
    }
  }

  async #restart(): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    try {
      await this.#sql?.end({ timeout: 0 }).catch(() => {});
      await this.#listen();
      this.#onWake();
    } catch {
      // still unreachable: the next probe tries again
    } finally {
      this.#restarting = false;
    }
  }
}

/** A store's `LISTEN` connections, one per subscription, stopped when the store closes. */
export class StoreListeners {
  readonly #pool: Sql;
  readonly #connect: () => Sql;
  readonly #listeners = new Set<WakeListener>();

  constructor(pool: Sql, connect: () => Sql) {
    this.#pool = pool;
    this.#connect = connect;
  }

  /** Listens on `channel` (a SQL expression); resolves to the function that stops. */
  async listen(
    channel: string,
    onNotice: (payload?: string) => void,
  ): Promise<() => Promise<void>> {
    const listener = new WakeListener(
      { channel, pool: this.#pool, connect: this.#connect },
      onNotice,
    );
    await listener.start();
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
      await listener.stop();
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((listener) => listener.stop()));
    this.#listeners.clear();
  }
}
