import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import type Database from "better-sqlite3";
import type { WakeReason } from "../store/journal-store.ts";

/** The store's writes: queued for the lock, or made now if the lock is free. */
export interface Writes {
  queued<T>(fn: () => T): Promise<T>;
  tryNow(fn: () => unknown): boolean;
}

interface Doorbell {
  port: number;
  token: string;
  pid: number;
  /** 1 where the listener admits runs: admission rings go to these alone. */
  admits: number;
}

/** This process's own row, as it registers it. */
type OwnDoorbell = Omit<Doorbell, "admits">;

/**
 * Tells the other processes on a database file that this one committed, at once: SQLite has
 * no LISTEN/NOTIFY, and a process learned of another's commit only at its next probe of the
 * WAL (data-version-watch.ts), a millisecond or more after the commit; a run started by a
 * `cairn server` waited for that twice (the worker's wake-up, then the waiter's).
 *
 * A process that listens binds a UDP socket on the loopback address and records its port in
 * `commit_doorbells`; after a commit other processes act on (runs created, ended, cancelled:
 * the store decides), the committer reads the table (a few microseconds) and sends each
 * port but its own a datagram. Processes sharing a WAL file share a
 * host, so loopback reaches them all. Rings are hints, like the probes they overtake: a lost
 * datagram or a failed socket leaves the probes and timed checks to find the commit. A
 * listener's token is the datagram it expects, so a stray datagram on its port (or a ring
 * meant for the port's earlier owner) wakes nobody.
 *
 * A ring for a commit that only inserted runs awaiting admission (a `cairn server` started
 * them) carries one byte more, 1, after the token: a worker woken by it admits them and does
 * not claim (see `worker/loop-wake.ts`). It goes only to processes that admit runs (their
 * row says so): the others have nothing to do with it. A process from before the byte
 * ignores such a ring, as any datagram that is not its token, and its probes find the commit.
 */
export class CommitDoorbell {
  readonly #write: Writes;
  readonly #doorbells: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #remove: Database.Statement;
  readonly #setAdmits: Database.Statement;
  readonly #onRing = new Set<(reason?: WakeReason) => void>();
  /** The process's one socket, bound to the loopback address: it sends rings and hears them. */
  #socket: Socket | undefined;
  /** Settles when the socket is bound (or failed to bind). */
  #bound: Promise<void> | undefined;
  /** This process's own doorbell, once registered (undefined where registering failed). */
  #own: Promise<OwnDoorbell | undefined> | undefined;
  #ownPort: number | undefined;
  /** This process's row, once written. */
  #registered: OwnDoorbell | undefined;
  /** Whether a listener of this process admits runs (see `listen`). */
  #admits = false;
  #closed = false;

  constructor(db: Database.Database, write: Writes) {
    this.#write = write;
    this.#doorbells = db.prepare("SELECT port, token, pid, admits FROM commit_doorbells");
    this.#insert = db.prepare(
      "INSERT OR REPLACE INTO commit_doorbells (port, token, pid, since, admits) VALUES (?, ?, ?, ?, ?)",
    );
    this.#setAdmits = db.prepare(
      "UPDATE commit_doorbells SET admits = 1 WHERE port = ? AND token = ?",
    );
    this.#remove = db.prepare("DELETE FROM commit_doorbells WHERE port = ? AND token = ?");
  }

  /**
   * Rings every other listening process; call it after a commit, with `"admission"` when the
   * commit's only news is runs awaiting admission. Never throws.
   */
  ring(reason?: WakeReason): void {
    if (this.#closed) return;
    let doorbells: Doorbell[];
    try {
      doorbells = this.#doorbells.all() as Doorbell[];
    } catch {
      return; // busy or closing: the probes find the commit
    }
    if (doorbells.length === 0 || (doorbells.length === 1 && doorbells[0]?.port === this.#ownPort))
      return;
    const socket = this.#openSocket();
    for (const { port, token, admits } of doorbells) {
      // A failed send is a lost hint; the callback keeps it from closing the socket.
      if (port === this.#ownPort || (reason === "admission" && !admits)) continue;
      const datagram = Buffer.from(
        reason === "admission" ? `${token}${admissionByte}` : token,
        "hex",
      );
      socket?.send(datagram, port, "127.0.0.1", noop);
    }
  }

  /**
   * Calls `onRing` when another process rings after its commit; the first listener registers
   * this process (`registered` says when it has). `admits`: the listener admits runs (a
   * worker's), and this process is rung for runs awaiting admission from then on. Returns
   * the function that stops listening.
   */
  listen(onRing: (reason?: WakeReason) => void, { admits = false } = {}): () => void {
    this.#onRing.add(onRing);
    if (admits && !this.#admits) {
      this.#admits = true;
      // A row written before (for a listener that does not admit) says so now.
      if (this.#registered) this.#markAdmits(this.#registered);
    }
    this.#own ??= this.#register();
    return () => this.#onRing.delete(onRing);
  }

  /** Whether this process's doorbell is registered: false where it could not be. */
  async registered(): Promise<boolean> {
    return (await this.#own) !== undefined;
  }

  /**
   * Removes this process's doorbell and closes its socket, without waiting for the write
   * lock: a file another process keeps locked must not hold up a shutdown. A registration
   * still waiting for the lock removes its row itself; a row left behind is removed by the
   * next process to register once this one has exited.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unregister();
    this.#socket?.close();
    this.#socket = undefined;
  }

  #unregister(): void {
    const own = this.#registered;
    this.#registered = undefined;
    if (own) this.#write.tryNow(() => this.#remove.run(own.port, own.token));
  }

  async #register(): Promise<OwnDoorbell | undefined> {
    const socket = this.#openSocket();
    if (!socket) return undefined;
    const token = randomBytes(8);
    socket.on("message", (message) => {
      const reason = ringReason(message, token);
      if (reason === null) return;
      for (const onRing of this.#onRing) onRing(reason);
    });
    try {
      await this.#bound;
      if (this.#closed) return undefined;
      const own = { port: socket.address().port, token: token.toString("hex"), pid: process.pid };
      this.#ownPort = own.port;
      let admits = false;
      await this.#write.queued(() => {
        for (const row of this.#doorbells.all() as Doorbell[]) {
          if (!isAlive(row.pid)) this.#remove.run(row.port, row.token);
        }
        // Read in the write: a listener that admits may have come while it waited.
        admits = this.#admits;
        this.#insert.run(own.port, own.token, own.pid, Date.now(), admits ? 1 : 0);
      });
      this.#registered = own;
      if (this.#admits && !admits) this.#markAdmits(own); // came after the write
      if (this.#closed) this.#unregister(); // closed while the row waited for the lock
      return own;
    } catch {
      return undefined; // no socket or no row: this process keeps to its probes
    }
  }

  #markAdmits(own: OwnDoorbell): void {
    // A failed write leaves the process rung for ends and starts, not for admissions: its
    // probes and timed checks find those.
    this.#write.queued(() => this.#setAdmits.run(own.port, own.token)).catch(noop);
  }

  #openSocket(): Socket | undefined {
    if (this.#socket) return this.#socket;
    try {
      // Rings go to "127.0.0.1" only, which needs no lookup. Node's own lookup answers an IP
      // address on the next tick, so a ring left the process only after the rest of the
      // committing turn (a server's HTTP response: 0.6 ms of a W4-like run across processes).
      const socket = createSocket({ type: "udp4", lookup: loopbackLookup });
      this.#bound = new Promise<void>((resolve, reject) => {
        socket.once("listening", resolve);
        socket.once("error", reject);
        socket.once("close", () => reject(new Error("closed before it was bound")));
      });
      this.#bound.catch(noop);
      socket.on("error", () => {
        socket.close();
        if (this.#socket === socket) this.#socket = undefined;
      });
      // Sends made while it binds are queued by Node, not lost.
      socket.bind(0, "127.0.0.1");
      // A doorbell must never keep a process alive that has nothing else to do.
      socket.unref();
      this.#socket = socket;
      return socket;
    } catch {
      return undefined;
    }
  }
}

function noop(): void {}

/** The byte, in hex, after the token of a ring for runs awaiting admission. */
const admissionByte = "01";

/** What a datagram rings for: null when it is not this listener's token (with a known reason). */
function ringReason(message: Buffer, token: Buffer): WakeReason | undefined | null {
  if (message.equals(token)) return undefined;
  const admission =
    message.length === token.length + 1 &&
    message[token.length] === 1 &&
    message.subarray(0, token.length).equals(token);
  return admission ? "admission" : null;
}

/** dgram's `lookup`, for an IP address: answers at once, where `dns.lookup` waits a tick. */
function loopbackLookup(
  address: string,
  _family: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
}

/** Whether a process with this id runs on this host (one we may not signal still does). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
