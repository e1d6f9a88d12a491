import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliResult, cli, inBatches, tempDir } from "./cli.ts";

const dir = tempDir();
afterAll(() => dir.remove());

describe("database paths", () => {
  it("read-only commands refuse to create a database; path mistakes name the path", async () => {
    const missing = join(dir.path, "nothing-here.db");
    writeFileSync(join(dir.path, "plain-file"), "x");
    mkdirSync(join(dir.path, "folder.db"));
    const results = await inBatches(
      [
        () => cli(["runs", "list", "--db", `sqlite:${missing}`]),
        () => cli(["runs", "show", "r1", "--db", `sqlite:${missing}`]),
        () => cli(["schedules", "list", "--db", `sqlite:${missing}`]),
        () => cli(["tokens", "list", "--db", `sqlite:${missing}`]),
        () => cli(["migrate", "--db", `sqlite:${join(dir.path, "plain-file", "x.db")}`]),
        () => cli(["migrate", "--db", `sqlite:${join(dir.path, "folder.db")}`]),
        () => cli(["runs", "list"], { cwd: dir.path }),
      ],
      3,
    );
    const [list, show, schedules, tokens, fileAsFolder, folderAsFile, defaultDb] = results as [
      CliResult,
      CliResult,
      CliResult,
      CliResult,
      CliResult,
      CliResult,
      CliResult,
    ];
    for (const result of [list, show, schedules, tokens]) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toBe(
        `error: no Cairn database at ${missing} — run cairn dev or cairn migrate first (or point --db at an existing one).\n`,
      );
    }
    expect(existsSync(missing)).toBe(false);
    expect(defaultDb.code).toBe(2);
    expect(defaultDb.stderr).toContain("no Cairn database at .cairn/cairn.db");
    expect(existsSync(join(dir.path, ".cairn"))).toBe(false);
    expect(fileAsFolder.code).toBe(2);
    expect(fileAsFolder.stderr).toContain(
      `${join(dir.path, "plain-file")} is a file, not a folder`,
    );
    expect(folderAsFile.code).toBe(2);
    expect(folderAsFile.stderr).toContain(`${join(dir.path, "folder.db")} is a folder`);
  }, 120_000); // several CLI processes on a shared 2-core machine

  it("refuses paths that are no regular file, an empty file for reading, and names corrupt files", async () => {
    const fifo = join(dir.path, "pipe.db");
    execFileSync("mkfifo", [fifo]);
    const empty = join(dir.path, "empty.db");
    writeFileSync(empty, "");
    const corrupt = join(dir.path, "corrupt.db");
    writeFileSync(corrupt, "this is not a SQLite database, just some text in a file\n".repeat(20));
    const cases: [args: string[], code: number, message: string][] = [
      // Before: SQLite spun at 100% CPU forever on a /proc file.
      [
        ["runs", "list", "--db", "sqlite:/proc/self/status"],
        2,
        "error: Database sqlite:/proc/self/status: /proc/self/status is a file of the kernel's /proc pseudo file system, not a regular file; name a database file.\n",
      ],
      [
        ["migrate", "--db", `sqlite:${fifo}`],
        2,
        `error: Database sqlite:${fifo}: ${fifo} is a named pipe (FIFO), not a regular file; name a database file.\n`,
      ],
      [
        ["runs", "list", "--db", "sqlite:/dev/null"],
        2,
        "error: Database sqlite:/dev/null: /dev/null is a device, not a regular file; name a database file.\n",
      ],
      // Before: "No runs." from a file that holds no database, and the file migrated.
      [
        ["runs", "list", "--db", `sqlite:${empty}`],
        2,
        `error: Database sqlite:${empty}: ${empty} is empty (0 bytes), not a Cairn database — run cairn migrate --db sqlite:${empty} to set it up, or point --db at the right file.\n`,
      ],
      // Before: "error: file is not a database", naming no file.
      [
        ["runs", "list", "--db", `sqlite:${corrupt}`],
        1,
        `error: Database ${corrupt} is not a SQLite database or is corrupt (file is not a database); restore it from a backup or point --db at the right file.\n`,
      ],
    ];
    const results = await inBatches(
      cases.map(
        ([args]) =>
          () =>
            cli(args, { timeoutMs: 30_000 }),
      ),
      3,
    );
    cases.forEach(([args, code, message], i) => {
      const result = results[i] as CliResult;
      expect(result.code, `cairn ${args.join(" ")}: ${result.stderr}`).toBe(code);
      expect(result.stderr).toBe(message);
    });
    expect(statSync(empty).size).toBe(0);
  }, 120_000);
});
