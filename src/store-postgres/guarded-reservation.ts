import type { PendingQuery, ReservedSql, Row, RowList, Sql } from "postgres";
import { CairnError } from "../core/errors.ts";

/** What the store uses of postgres.js's internal connection object. */
export interface DriverConnection {
  terminate(): void;
  /** Called once by postgres.js when the connection's socket closes. */
  onclose?: ((error: Error) => void) | null;
}

/** Per reservation: its connection, known once a transaction began on it. */
const drivers = new WeakMap<ReservedSql, DriverConnection>();

/** The connection `reserved` holds, once a {@link GuardedReservation} began on it. */
export function driverOf(reserved: ReservedSql): DriverConnection | undefined {
  return drivers.get(reserved);
}

/**
 * Makes {@link driverOf} know `reserved`'s connection without a transaction: a no-op sent on
 * it, not awaited, ahead of whatever is sent next (one more message in the same round trip).
 * `KeptConnections` keeps only reservations whose connection it knows.
 */
export function learnDriver(reserved: ReservedSql): void {
  if (drivers.has(reserved)) return;
  const probe = reserved.unsafe("SELECT 1", [], {
    onexecute: (connection: DriverConnection) => {
      drivers.set(reserved, connection);
      return true;
    },
  } as never);
  // A lost connection fails the statement sent after it too, which reports it.
  probe.execute().catch(() => {});
}

const connectionErrors = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "STORE_UNAVAILABLE",
  "57P01", // admin_shutdown: the server is going down
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

/** True when the error means the connection (or the server) went away. */
export function isConnectionError(error: unknown): boolean {
  return connectionErrors.has((error as { code?: string } | undefined)?.code ?? "");
}

/** Slack over `statement_timeout` before a transaction that has not settled is given up. */
const deadlineSlackMs = 2000;

/**
 * A reserved postgres.js connection whose transaction can fail but never hang, and never
 * take the process or the pool down with it.
 *
 * postgres.js 3.4 queues a reserved connection's statements behind the one in flight. When
 * the connection closes (a database restart) it rejects the statements on the wire but
 * never the queued ones, so awaiting them waits forever; a statement sent afterwards is
 * written to a null socket (an uncaught TypeError, porsager/postgres#1208) or, once the
 * pool has reconnected that connection for other queries, runs outside the transaction;
 * and `release()` puts the dead connection back into the pool's open queue. Hence:
 * - every statement sent here, and every promise passed to {@link guard}, also rejects as
 *   soon as the connection is lost: at the first connection error of any statement, or when
 *   the transaction is still unsettled `statement_timeout` + 2 s after it began (the server
 *   would have cancelled any statement by then: the network is cut), when the connection
 *   is also terminated;
 * - once it is lost, `tx` refuses to send anything;
 * - a lost connection is not released: postgres.js moves it to its closed queue itself
 *   when its socket closes, and reconnects it from there.
 */
export class GuardedReservation {
  /** The reserved connection, refusing statements once the connection is lost. */
  readonly tx: ReservedSql;
  readonly #raw: ReservedSql;
  #driver: DriverConnection | undefined;
  #lost: Error | undefined;
  readonly #lostSignal: Promise<never>;
  #signalLost: (error: Error) => void = () => {};
  readonly #deadline: NodeJS.Timeout | undefined;

  /** `deadlineMs` null: no deadline (the server has no `statement_timeout` either). */
  private constructor(raw: ReservedSql, deadlineMs: number | null) {
    this.#raw = raw;
    this.#lostSignal = new Promise<never>((_, reject) => {
      this.#signalLost = reject;
    });
    this.#lostSignal.catch(() => {}); // observed through guard()
    this.tx = new Proxy(raw, {
      apply: (target, thisArg, args) => {
        this.#refuseIfLost();
        return Reflect.apply(target, thisArg, args);
      },
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== "unsafe") return value;
        return (...args: unknown[]) => {
          this.#refuseIfLost();
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        };
      },
    });
    if (deadlineMs === null) return;
    this.#deadline = setTimeout(() => {
      this.#markLost(
        new CairnError(
          "STORE_UNAVAILABLE",
          `A PostgreSQL transaction got no answer within ${deadlineMs} ms (statement_timeout + ${deadlineSlackMs} ms): the connection is presumed dead and was closed.`,
        ),
      );
      this.#driver?.terminate();
    }, deadlineMs);
    this.#deadline.unref();
  }

  /**
   * Reserves a connection and sends `BEGIN` on it (returned as `begun`: sent, not awaited).
   * The deadline runs from here.
   */
  static async begin(
    sql: Sql,
  ): Promise<{ reservation: GuardedReservation; begun: Promise<unknown> }> {
    const raw = await sql.reserve();
    const statementTimeout = Number(sql.options.connection.statement_timeout ?? 0);
    const reservation = new GuardedReservation(
      raw,
      statementTimeout > 0 ? statementTimeout + deadlineSlackMs : null,
    );
    // `onexecute` (what postgres.js's own `begin` uses) hands over the connection object:
    // the only way to terminate one connection of a pool. Returning true lets the
    // connection take more statements at once, as it would without the hook.
    const begin = raw.unsafe("BEGIN", [], {
      onexecute: (connection: DriverConnection) => {
        reservation.#driver = connection;
        drivers.set(raw, connection);
        return true;
      },
    } as never);
    return { reservation, begun: reservation.execute(begin) };
  }

  /** Why the connection was given up, once it was. */
  get lost(): Error | undefined {
    return this.#lost;
  }

  /** Sends `query` now (behind everything already sent) and returns its guarded answer. */
  execute<T extends readonly Row[]>(query: PendingQuery<T>): Promise<RowList<T>> {
    this.#refuseIfLost();
    const answer = query.execute().then(
      (rows) => rows,
      (error: unknown) => {
        if (isConnectionError(error)) this.#markLost(error as Error);
        throw error;
      },
    );
    return this.guard(answer);
  }

  /** `promise`, or the connection's loss if that comes first. */
  guard<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.#lostSignal]);
  }

  /** Ends the reservation: the connection goes back to the pool unless it was lost. */
  finish(): void {
    clearTimeout(this.#deadline);
    if (!this.#lost) this.#raw.release();
  }

  #refuseIfLost(): void {
    if (this.#lost) throw this.#lost;
  }

  #markLost(error: Error): void {
    if (this.#lost) return;
    this.#lost = error;
    this.#signalLost(error);
  }
}
