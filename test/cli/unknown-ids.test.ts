import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cli, inBatches, tempDir } from "./cli.ts";

const dir = tempDir();
afterAll(() => dir.remove());
beforeAll(async () => {
  const migrated = await cli(["migrate", "--db", dir.db]);
  expect(migrated.code, migrated.stderr).toBe(0);
}, 60_000);

/** Every command that takes a schedule or run id, and what it says when no such thing exists. */
const commands: [args: string[], message: string][] = [
  [["schedules", "pause", "nope"], 'No schedule with id "nope".'],
  [["schedules", "resume", "nope"], 'No schedule with id "nope".'],
  [["schedules", "preview", "nope"], 'No schedule with id "nope".'],
  [["schedules", "delete", "nope"], 'No schedule with id "nope".'],
  [["runs", "show", "nope"], 'No run with id "nope".'],
  [["runs", "cancel", "nope"], 'No run with id "nope".'],
  [["runs", "retry", "nope"], 'No run with id "nope".'],
];

describe("unknown ids", () => {
  it("every command given an unknown schedule or run id says so and exits 2", async () => {
    const results = await inBatches(
      commands.map(
        ([args]) =>
          () =>
            cli([...args, "--db", dir.db]),
      ),
      3,
    );
    commands.forEach(([args, message], i) => {
      const result = results[i] as CliResult;
      expect(result.code, `cairn ${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toBe(`error: ${message}\n`);
    });
  }, 120_000); // several CLI processes on a shared 2-core machine
});
