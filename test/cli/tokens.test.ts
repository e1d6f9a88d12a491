import { afterAll, describe, expect, it } from "vitest";
import { cli, tempDir } from "./cli.ts";

const dir = tempDir();
afterAll(() => dir.remove());

describe("cairn tokens with --expires", () => {
  it("creates an expiring token and lists its expiry and last use", async () => {
    const created = await cli([
      "tokens",
      "create",
      "--name",
      "ci",
      "--role",
      "viewer",
      "--expires",
      "30d",
      "--json",
      "--db",
      dir.db,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout) as { createdAt: string; expiresAt: string };
    const lifetime = Date.parse(token.expiresAt) - Date.parse(token.createdAt);
    expect(lifetime).toBe(30 * 24 * 3_600_000);

    const listed = await cli(["tokens", "list", "--db", dir.db]);
    expect(listed.code, listed.stderr).toBe(0);
    const [header, row] = listed.stdout.trim().split("\n");
    expect(header).toMatch(/LAST USED\s+EXPIRES\s+REVOKED/);
    expect(row).toMatch(/ci\s+viewer\s+\S+ \S+\s+-\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+-$/);

    const json = await cli(["tokens", "list", "--json", "--db", dir.db]);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: "ci", lastUsedAt: null, expiresAt: token.expiresAt }),
    ]);
  });

  it("refuses an --expires that is not a duration", async () => {
    const result = await cli([
      "tokens",
      "create",
      "--name",
      "x",
      "--role",
      "viewer",
      "--expires",
      "next week",
      "--db",
      dir.db,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--expires must be a duration like "30d"');
  });
});
