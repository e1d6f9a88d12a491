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

const workflows = `import { defineWorkflow } from "${join(root, "src/index.ts")}";
export const waiter = defineWorkflow({ name: "waiter" }, async (ctx) =>
  ctx.waitForSignal("go", { timeout: "1h" }));
export const listener = defineWorkflow({ name: "listener" }, async (ctx) =>
  ctx.waitForEvent("ping", { event: "ping", timeout: "1h" }));
export const onPing = defineWorkflow(
  { name: "on-ping", triggers: [{ event: "ping" }] },
  async (ctx) => ctx.step("pong", () => "pong"),
);
`;

describe("cairn signal and cairn events send", () => {
  it("signal delivers a payload to one run; events send lists the runs started and woken", async () => {
    writeFileSync(join(dir.path, "package.json"), '{ "type": "module" }');
    writeFileSync(join(dir.path, "flows.ts"), workflows);
    const dev = startService([
      "dev",
      join(dir.path, "flows.ts"),
      "--port",
      "0",
      "--json",
      "--no-watch",
      "--db",
      `sqlite:${join(dir.path, "dev.db")}`,
    ]);
    services.push(dev);
    const url = (await dev.ready).url as string;
    for (const [workflow, id] of [
      ["waiter", "w1"],
      ["listener", "l1"],
    ]) {
      const started = await cli(["run", workflow as string, "--url", url, "--id", id as string]);
      expect(started.code, started.stderr).toBe(0);
    }
    const signal = await cli(["signal", "w1", "go", "--data", '{"x":1}', "--url", url]);
    expect(signal.code, signal.stderr).toBe(0);
    expect(signal.stdout).toBe("Signal go sent to run w1.\n");
    const waited = await cli(["run", "waiter", "--id", "w1", "--wait", "--url", url]);
    expect(JSON.parse(waited.stdout)).toEqual({ x: 1 });

    await cli(["run", "listener", "--id", "l1", "--url", url]); // idempotent: still l1
    const deadline = Date.now() + 20_000;
    let shown = await cli([
      "runs",
      "show",
      "l1",
      "--json",
      "--db",
      `sqlite:${join(dir.path, "dev.db")}`,
    ]);
    while (JSON.parse(shown.stdout).status !== "waiting" && Date.now() < deadline) {
      shown = await cli([
        "runs",
        "show",
        "l1",
        "--json",
        "--db",
        `sqlite:${join(dir.path, "dev.db")}`,
      ]);
    }
    const sent = await cli(["events", "send", "ping", "--id", "p1", "--url", url]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(
      /^Event ping accepted \(id p1\)\.\nStarted 1 run: \S+\nWoke 1 run: l1\n$/,
    );
    const unknown = await cli(["signal", "nope", "go", "--url", url]);
    expect(unknown.code).toBe(2);
  }, 120_000); // about ten CLI processes, each a Node start-up on a shared 2-core machine
});
