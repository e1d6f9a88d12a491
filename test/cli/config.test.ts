import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cli, tempDir } from "./cli.ts";

// Each test spawns CLI processes; a loaded CI machine can make them slow.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

interface Printed {
  file: string | null;
  values: Record<string, { value: unknown; source: string; from: string }>;
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

async function printConfig(args: string[] = [], env: Record<string, string> = {}) {
  const result = await cli(["config", "print", "--json", ...args], { cwd: dir.path, env });
  return { ...result, printed: result.code === 0 ? (JSON.parse(result.stdout) as Printed) : null };
}

describe("cairn config print", () => {
  it("layers flags over CAIRN_* variables over cairn.config.json over defaults", async () => {
    writeFileSync(
      join(dir.path, "cairn.config.json"),
      JSON.stringify({ db: "sqlite:file.db", port: 8001, host: "127.0.0.2", drainTimeout: "30s" }),
    );
    const { code, printed } = await printConfig(["--db", "sqlite:flag.db"], {
      CAIRN_DB: "sqlite:env.db",
      CAIRN_PORT: "8002",
      CAIRN_TOKEN: "secret-value",
    });
    expect(code).toBe(0);
    const v = printed?.values ?? {};
    expect(printed?.file).toBe("cairn.config.json");
    expect(v.db).toEqual({ value: "sqlite:flag.db", source: "flag", from: "--db" });
    expect(v.port).toEqual({ value: 8002, source: "env", from: "CAIRN_PORT" });
    expect(v.host).toEqual({ value: "127.0.0.2", source: "file", from: "cairn.config.json" });
    expect(v.drainTimeout).toEqual({ value: 30_000, source: "file", from: "cairn.config.json" });
    expect(v.logLevel).toEqual({ value: "info", source: "default", from: "default" });
    // The client URL follows the configured host and port unless set.
    expect(v.url?.value).toBe("http://127.0.0.2:8002");
    // Secrets are never printed.
    expect(v.token?.value).toBe("(set, hidden)");
  });

  it("reads cairn.config.ts and prints a table by default", async () => {
    writeFileSync(
      join(dir.path, "cairn.config.ts"),
      'export default { logLevel: "debug", concurrency: 7 } satisfies Record<string, unknown>;\n',
    );
    const result = await cli(["config", "print"], { cwd: dir.path });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("configuration file: cairn.config.ts");
    expect(result.stdout).toMatch(/logLevel\s+debug\s+file cairn\.config\.ts/);
    expect(result.stdout).toMatch(/concurrency\s+7\s+file cairn\.config\.ts/);
    expect(result.stdout).toMatch(/port\s+7420\s+default/);
  });

  it("rejects an unknown key or a wrong type, naming the key and the file", async () => {
    const file = join(dir.path, "cairn.config.json");
    writeFileSync(file, JSON.stringify({ prot: 8000 }));
    let result = await printConfig();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cairn.config.json: unknown key "prot"');

    writeFileSync(file, JSON.stringify({ port: "8000" }));
    result = await printConfig();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cairn\.config\.json: "port": .*expected number/);

    writeFileSync(file, "{ not json");
    result = await printConfig();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cairn.config.json: not valid JSON");
  });

  it("rejects a bad environment value, naming the variable", async () => {
    const result = await printConfig([], { CAIRN_LOG_LEVEL: "loud" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CAIRN_LOG_LEVEL: invalid value "loud" for logLevel');
  });
});

describe("webhooks in the configuration file", () => {
  it("accepts a scheme per hook and refuses an unknown one, naming where", async () => {
    const write = (webhooks: unknown) =>
      writeFileSync(join(dir.path, "cairn.config.json"), JSON.stringify({ webhooks }));
    write({ gh: { scheme: "github", secrets: ["a", "b"] }, plain: "s" });
    const accepted = await printConfig();
    expect(accepted.code).toBe(0);
    // The secrets are never printed.
    expect(accepted.printed?.values.webhooks?.value).toBe("(set, hidden)");
    write({ gh: { scheme: "gitlab", secrets: "a" } });
    const refused = await printConfig();
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/webhooks/);
    expect(refused.stderr).toMatch(
      /Webhook "gh": scheme must be one of cairn, standard, github, stripe, got "gitlab"/,
    );
  });
});

describe("retention in the configuration file", () => {
  it('reads "retention" as a duration and refuses one that is not, naming the key', async () => {
    const file = join(dir.path, "cairn.config.json");
    writeFileSync(file, JSON.stringify({ retention: "30d" }));
    const accepted = await printConfig();
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.printed?.values.retention).toEqual({
      value: 30 * 86_400_000,
      source: "file",
      from: "cairn.config.json",
    });
    writeFileSync(file, JSON.stringify({ retention: "a month" }));
    const refused = await printConfig();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cairn\.config\.json: "retention": Invalid duration "a month"/);
  });
});
