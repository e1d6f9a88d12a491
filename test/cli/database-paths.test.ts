import { existsSync, mkdirSync, writeFileSync } from "node:fs";
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
});
