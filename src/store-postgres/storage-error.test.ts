import { describe, expect, it } from "vitest";
import { CairnError } from "../core/errors.ts";
import { postgresStorageError } from "./storage-error.ts";

/** An error shaped as postgres.js reports a server's or a socket's failure. */
const driverError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("postgresStorageError", () => {
  it("maps a full disk to STORAGE_FULL and keeps the cause", () => {
    const cause = driverError("53100", "could not extend file");
    const mapped = postgresStorageError(cause) as CairnError;
    expect(mapped.code).toBe("STORAGE_FULL");
    expect(mapped.cause).toBe(cause);
  });

  it.each([
    ["53300", "sorry, too many clients already"],
    ["57P03", "the database system is starting up"],
    ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"],
    ["CONNECTION_CLOSED", "write CONNECTION_CLOSED"],
  ])("maps %s (%s) to STORE_UNAVAILABLE", (code, message) => {
    const mapped = postgresStorageError(driverError(code, message)) as CairnError;
    expect(CairnError.is(mapped)).toBe(true);
    expect(mapped.code).toBe("STORE_UNAVAILABLE");
    expect(mapped.message).toContain(message);
  });

  it("returns other errors, and Cairn's own, as they are", () => {
    const unique = driverError("23505", "duplicate key value");
    expect(postgresStorageError(unique)).toBe(unique);
    const own = new CairnError("RUN_NOT_FOUND", "no such run");
    expect(postgresStorageError(own)).toBe(own);
  });
});
