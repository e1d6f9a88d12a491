import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, root, type Service, startService, tempDir } from "./cli.ts";

const dir = tempDir();
const services: Service[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop("SIGKILL")));
  dir.remove();
});

const sdk = join(root, "src/index.ts");
/** A workflow that greets, then waits for an event: a run of it stays unfinished. */
const source = (greeting: string, firstStep: string) => `import { defineWorkflow } from "${sdk}";
export const hello = defineWorkflow({ name: "hello" }, async (ctx, who: string) => {
  const text = await ctx.step("${firstStep}", () => {
    console.log("greeting", who);
    return "${greeting}, " + who;
  });
  await ctx.waitForEvent("go", { event: "hello.go", timeout: "1h" });
  return text;
});
`;

describe("cairn dev", () => {
  it("labels console output, reloads an edited workflow, keeps runs, warns of divergence", async () => {
    writeFileSync(join(dir.path, "package.json"), '{ "type": "module" }');
    const file = join(dir.path, "hello.ts");
    writeFileSync(file, source("Hello", "greet"));
    const dev = startService([
      "dev",
      dir.path,
      "--port",
      "0",
      "--json",
      "--log-format",
      "pretty",
      "--db",
      `sqlite:${join(dir.path, "dev.db")}`,
    ]);
    services.push(dev);
    const url = (await dev.ready).url as string;
    const first = await cli(["run", "hello", "--url", url, "--id", "r1", "--input", '"ada"']);
    expect(first.code, first.stderr).toBe(0);
    await dev.waitForStderr("hello r1 waiting");
    expect(dev.stderr()).toMatch(/hello r1 › greet │ greeting ada/);
    expect(dev.stderr()).toMatch(/✓ hello r1 › greet \d+ ms/);

    // Renaming the step before the wait: r1's journal says `greet`, the new code `welcome`.
    writeFileSync(file, source("Welcome", "welcome"));
    await dev.waitForStderr("workflows reloaded");
    await dev.waitForStderr("run r1 (waiting) would diverge under the new code");
    expect(dev.stderr()).toMatch(/changed=\["hello"\]/);

    const second = await cli(["run", "hello", "--url", url, "--id", "r2", "--input", '"bob"']);
    expect(second.code, second.stderr).toBe(0);
    await dev.waitForStderr("hello r2 › welcome │ greeting bob");
    const sent = await cli(["events", "send", "hello.go", "--url", url]);
    expect(sent.code, sent.stderr).toBe(0);
    await dev.waitForStderr("hello r2 completed");
    expect(dev.stderr()).toContain('→ "Welcome, bob"');

    // The edit lost no run: r1 is still recorded (and, diverged, fails on resume).
    const list = await cli([
      "runs",
      "list",
      "--json",
      "--db",
      `sqlite:${join(dir.path, "dev.db")}`,
    ]);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((r) => r.id).sort()).toEqual([
      "r1",
      "r2",
    ]);
  }, 120_000); // several CLI processes on a shared 2-core machine
});
