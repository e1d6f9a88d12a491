import { describe, expect, it } from "vitest";
import { cli, inBatches } from "./cli.ts";

const commands = [
  [],
  ["dev"],
  ["worker"],
  ["server"],
  ["run"],
  ["runs"],
  ["runs", "list"],
  ["runs", "show"],
  ["runs", "cancel"],
  ["runs", "retry"],
  ["runs", "replay"],
  ["replay"],
  ["events"],
  ["events", "send"],
  ["tokens"],
  ["tokens", "create"],
  ["tokens", "list"],
  ["tokens", "revoke"],
  ["config"],
  ["config", "print"],
  ["migrate"],
  ["bench"],
];

describe("cairn --help", () => {
  it("every command prints its usage and exits 0", async () => {
    const results = await inBatches(
      commands.map((command) => () => cli([...command, "--help"])),
      4,
    );
    results.forEach((result, i) => {
      const name = ["cairn", ...(commands[i] ?? [])].join(" ");
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toContain(`Usage: ${name}`);
    });
  }, 60_000);
});

describe("usage errors exit 2 with a message naming the problem", () => {
  const cases: [string, string[], RegExp][] = [
    ["no command", [], /Usage: cairn/],
    ["an unknown command", ["frobnicate"], /unknown command 'frobnicate'/],
    ["an unknown option", ["runs", "list", "--bogus"], /unknown option '--bogus'/],
    ["a missing argument", ["runs", "show"], /missing required argument 'id'/],
    ["a missing required option", ["tokens", "create", "--name", "ci"], /--role/],
    ["invalid --input JSON", ["run", "greet", "--input", "{bad"], /--input is not valid JSON/],
    ["invalid --data JSON", ["events", "send", "x", "--data", "[1,"], /--data is not valid JSON/],
    ["a bad --limit", ["runs", "list", "--limit", "0"], /--limit must be a positive integer/],
    ["an unknown --status", ["runs", "list", "--status", "nope"], /--status must be one of/],
    ["an unknown role", ["tokens", "create", "--name", "x", "--role", "boss"], /--role must be/],
    ["a bad --port", ["config", "print", "--port", "abc"], /--port: invalid value "abc"/],
    ["a missing entry", ["worker", "/nonexistent/workflows"], /does not exist/],
  ];
  it("for each kind of mistake", async () => {
    const results = await inBatches(
      cases.map(
        ([, args]) =>
          () =>
            cli(args),
      ),
      4,
    );
    results.forEach((result, i) => {
      const [what, , message] = cases[i] as (typeof cases)[number];
      expect(result.code, what).toBe(2);
      expect(result.stderr, what).toMatch(message);
    });
  }, 60_000);
});
