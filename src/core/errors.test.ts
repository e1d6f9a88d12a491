import { describe, expect, it } from "vitest";
import { CairnError, NonRetryableError, RunCancelledError } from "./errors.ts";
import { deserializeError, serializeError } from "./serializer.ts";

describe("CairnError.is", () => {
  it("accepts Cairn's errors, their subclasses and errors rebuilt from the journal", () => {
    expect(CairnError.is(new CairnError("RUN_NOT_FOUND", "x"))).toBe(true);
    expect(CairnError.is(new NonRetryableError("no"))).toBe(true);
    const rebuilt = deserializeError(serializeError(new RunCancelledError("r1")));
    expect(CairnError.is(rebuilt)).toBe(true);
    const coded = deserializeError(serializeError(new CairnError("INVALID_INPUT", "bad")));
    expect(CairnError.is(coded) && coded.code).toBe("INVALID_INPUT");
  });

  it("refuses other errors that carry a string code", () => {
    const node = Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
    const lookalike = Object.assign(new Error("x"), { code: "RUN_NOT_FOUND" });
    expect(CairnError.is(node)).toBe(false);
    expect(CairnError.is(lookalike)).toBe(false);
    expect(CairnError.is({ code: "RUN_NOT_FOUND", message: "x" })).toBe(false);
    // A driver's coded error keeps its code through the journal but does not become Cairn's.
    const stored = deserializeError(serializeError(node));
    expect(CairnError.is(stored)).toBe(false);
    expect((stored as { code?: string }).code).toBe("ECONNREFUSED");
  });
});
