import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Cairn } from "../../src/index.ts";
import { cli, tempDir } from "./cli.ts";
import { greet } from "./fixtures/workflows/greet.ts";

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const dir = tempDir();
const db = ["--db", dir.db];

beforeAll(async () => {
  // A process that runs "greet" registers it, so the CLI (without code) may schedule it.
  const cairn = await Cairn.open({ db: dir.db, workflows: [greet] });
  await cairn.close();
});
afterAll(() => dir.remove());

describe("cairn schedules", () => {
  it("creates, lists, previews, pauses, resumes, backfills and deletes a schedule", async () => {
    const created = await cli([
      "schedules",
      "create",
      "--workflow",
      "greet",
      "--cron",
      "0 0 * * *",
      "--id",
      "daily",
      "--input",
      '{"name":"Ada"}',
      "--overlap",
      "queue",
      "--json",
      ...db,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      id: "daily",
      workflow: "greet",
      overlap: "queue",
      paused: false,
    });

    const listed = await cli(["schedules", "list", "--json", ...db]);
    expect(JSON.parse(listed.stdout).map((s: { id: string }) => s.id)).toEqual(["daily"]);

    const preview = await cli(["schedules", "preview", "daily", "--count", "2", "--json", ...db]);
    const [first, second] = JSON.parse(preview.stdout) as string[];
    expect(new Date(second ?? 0).getTime() - new Date(first ?? 0).getTime()).toBe(86_400_000);

    expect(
      JSON.parse((await cli(["schedules", "pause", "daily", "--json", ...db])).stdout).paused,
    ).toBe(true);
    expect(
      JSON.parse((await cli(["schedules", "resume", "daily", "--json", ...db])).stdout).paused,
    ).toBe(false);

    const range = ["--from", "2030-01-01", "--to", "2030-01-08"];
    const backfill = await cli(["schedules", "backfill", "daily", ...range, "--json", ...db]);
    expect(JSON.parse(backfill.stdout)).toMatchObject({ slots: 7 });
    expect(JSON.parse(backfill.stdout).created[0]).toBe("sched-daily-20300101T0000Z");
    const again = await cli(["schedules", "backfill", "daily", ...range, "--json", ...db]);
    expect(JSON.parse(again.stdout).created).toEqual([]);

    expect((await cli(["schedules", "delete", "daily", ...db])).code).toBe(0);
    expect((await cli(["schedules", "delete", "daily", ...db])).code).toBe(2);
  });

  it("exits 2 with a clear message for a bad cron, policy, time or workflow", async () => {
    const badCron = await cli([
      "schedules",
      "create",
      "--workflow",
      "greet",
      "--cron",
      "99 * * * *",
      ...db,
    ]);
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toMatch(/invalid cron "99 \* \* \* \*"/);
    const badPolicy = await cli([
      "schedules",
      "create",
      "--workflow",
      "greet",
      "--cron",
      "* * * * *",
      "--overlap",
      "never",
      ...db,
    ]);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain("--overlap must be one of skip, queue, allow");
    const badWorkflow = await cli([
      "schedules",
      "create",
      "--workflow",
      "nope",
      "--cron",
      "* * * * *",
      ...db,
    ]);
    expect(badWorkflow.code).toBe(2);
    expect(badWorkflow.stderr).toMatch(/Unknown workflow "nope"/);
    const badTime = await cli([
      "schedules",
      "backfill",
      "x",
      "--from",
      "soon",
      "--to",
      "later",
      ...db,
    ]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--from must be an ISO date or time, got "soon"');
    const perSecond = ["--workflow", "greet", "--cron", "* * * * * *", "--id", "s", ...db];
    expect((await cli(["schedules", "create", ...perSecond])).code).toBe(0);
    const overCap = await cli([
      "schedules",
      "backfill",
      "s",
      "--from",
      "2020-01-01",
      "--to",
      "2030-01-01",
      ...db,
    ]);
    expect(overCap.code).toBe(2);
    expect(overCap.stderr).toMatch(/over the cap of 100,000 per backfill; nothing was created/);
  });
});
