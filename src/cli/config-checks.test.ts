import { describe, expect, it } from "vitest";
import { configChecks } from "./config-checks.ts";

describe("configuration checks", () => {
  it("accept what each key takes, converting durations to ms", async () => {
    expect(await configChecks.port(0)).toEqual({ ok: true, value: 0 });
    expect(await configChecks.url("https://cairn.example/api")).toMatchObject({ ok: true });
    expect(await configChecks.drainTimeout("30s")).toEqual({ ok: true, value: 30_000 });
    expect(await configChecks.allowedHosts(["a.example"])).toMatchObject({ ok: true });
    expect(await configChecks.logLevel("debug")).toMatchObject({ ok: true });
    expect(await configChecks.webhooks({ gh: { scheme: "github", secrets: "s" } })).toMatchObject({
      ok: true,
    });
  });

  it("refuse the rest, saying what was expected", async () => {
    expect(await configChecks.port("8000")).toEqual({
      ok: false,
      problem: "expected number, received string",
    });
    expect(await configChecks.port(70_000)).toEqual({ ok: false, problem: "expected 0 to 65535" });
    expect(await configChecks.concurrency(0)).toEqual({ ok: false, problem: "expected >= 1" });
    expect(await configChecks.concurrency(1.5)).toEqual({
      ok: false,
      problem: "expected an integer",
    });
    expect(await configChecks.url("ftp://files.example")).toEqual({
      ok: false,
      problem: "expected an http:// or https:// URL",
    });
    expect(await configChecks.db("")).toEqual({
      ok: false,
      problem: "expected a non-empty string",
    });
    expect(await configChecks.drainTimeout("soon")).toMatchObject({ ok: false });
    expect(await configChecks.allowedOrigins(["ok", ""])).toEqual({
      ok: false,
      problem: "item 1: expected a non-empty string",
    });
    expect(await configChecks.webhooks({ gh: { scheme: "gitlab", secrets: "s" } })).toMatchObject({
      ok: false,
      problem: expect.stringContaining(
        'scheme must be one of cairn, standard, github, stripe, got "gitlab"',
      ),
    });
  });
});
