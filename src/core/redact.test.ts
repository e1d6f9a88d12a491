import { describe, expect, it } from "vitest";
import { redactUrl } from "./redact.ts";

describe("redactUrl", () => {
  it("hides the password of the user info and credential query parameters", () => {
    expect(redactUrl("postgres://app:s3cret@db:5432/cairn")).toBe(
      "postgres://app:***@db:5432/cairn",
    );
    expect(redactUrl("postgresql://app:p@ss:w0rd@db/cairn")).toBe("postgresql://app:***@db/cairn");
    expect(redactUrl("postgres://app@db/cairn?password=s3cret&schema=x")).toBe(
      "postgres://app@db/cairn?password=***&schema=x",
    );
    expect(redactUrl("postgres://db/cairn?schema=x&sslpassword=k&PASS=y")).toBe(
      "postgres://db/cairn?schema=x&sslpassword=***&PASS=***",
    );
  });

  it("leaves URLs without credentials and plain paths alone", () => {
    for (const url of ["postgres://app@db:5432/cairn", "sqlite:.cairn/cairn.db", "data/a:b@c.db"]) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});
