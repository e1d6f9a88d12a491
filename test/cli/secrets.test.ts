import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { signWebhook } from "../../src/server/index.ts";
import { freshSchema } from "../support/postgres.ts";
import { cli, type Service, startService, tempDir } from "./cli.ts";

/**
 * The canary sweep: secrets given to Cairn in every way it takes them are planted with a
 * recognisable value, every output a user or an attacker can see is collected, and none may
 * hold a canary.
 */
const canaries = {
  dbPassword: "canary-db-pw-5b1e7",
  webhook: "canary-hook-secret-0c94",
  rotated: "canary-hook-old-77ad",
  token: "cairn_canary-token-3f2d",
};
const hasCanary = (text: string) => Object.values(canaries).filter((c) => text.includes(c));

const dir = tempDir();
const services: Service[] = [];
afterAll(async () => {
  for (const s of services) await s.stop("SIGKILL");
  dir.remove();
});
writeFileSync(
  join(dir.path, "cairn.config.json"),
  JSON.stringify({
    webhooks: {
      deploy: [canaries.webhook, canaries.rotated],
      billing: { scheme: "stripe", secrets: canaries.webhook },
    },
  }),
);
// A configuration the server refuses: its message must not quote the secrets it holds.
const badConfig = join(dir.path, "bad-config");
mkdirSync(badConfig);
writeFileSync(
  join(badConfig, "cairn.config.json"),
  JSON.stringify({
    webhooks: {
      deploy: { scheme: "no-such-scheme", secrets: canaries.webhook },
      other: { scheme: "stripe", secrets: [canaries.rotated, 42] },
    },
  }),
);
// Nothing answers on port 1: the start fails while the URL with its password is in hand.
const deadDb = `postgres://cairn:${canaries.dbPassword}@127.0.0.1:1/cairn`;
const outputs: { what: string; text: string }[] = [];
const collect = (what: string, ...texts: string[]) =>
  outputs.push({ what, text: texts.join("\n") });

// Each test starts several CLI processes one after another: minutes on a busy machine.
describe("the canary-secret sweep", { timeout: 90_000 }, () => {
  it("config print shows no secret, in text and JSON", async () => {
    const env = { CAIRN_DB: deadDb, CAIRN_TOKEN: canaries.token };
    for (const args of [
      ["config", "print"],
      ["config", "print", "--json"],
    ]) {
      const r = await cli(args, { cwd: dir.path, env });
      expect(r.code, r.stderr).toBe(0);
      collect(args.join(" "), r.stdout, r.stderr);
      expect(hasCanary(r.stdout + r.stderr), r.stdout).toEqual([]);
    }
    const json = await cli(["config", "print", "--json", "--db", deadDb], { cwd: dir.path });
    expect(JSON.parse(json.stdout).values.db.value).toBe("postgres://cairn:***@127.0.0.1:1/cairn");
  });

  it("a start that fails on its database shows no password", async () => {
    for (const args of [
      ["server", "--db", deadDb, "--port", "0", "--log-level", "debug"],
      ["migrate", "--db", deadDb],
      ["runs", "list", "--db", deadDb],
      ["runs", "list", "--db", `mysql://cairn:${canaries.dbPassword}@127.0.0.1/cairn`],
      ["migrate", "--db", `postgres://cairn:${canaries.dbPassword}@no-such-host.invalid/cairn`],
      ["migrate", "--db", `postgres://cairn:${canaries.dbPassword}@127.0.0.1:notaport/cairn`],
      ["server", "--port", "0", "--db", `sqlite:${join(badConfig, "cairn.db")}`],
    ]) {
      const cwd = args.some((a) => a.startsWith(`sqlite:${badConfig}`)) ? badConfig : dir.path;
      const r = await cli(args, { cwd, env: { CAIRN_LOG_LEVEL: "debug" } });
      expect(r.code, `${args.join(" ")}: ${r.stdout}${r.stderr}`).not.toBe(0);
      collect(args.join(" "), r.stdout, r.stderr);
      expect(hasCanary(r.stdout + r.stderr), `${args.join(" ")}: ${r.stderr}`).toEqual([]);
    }
  });

  it("a start that succeeds prints its database without the password", async () => {
    const { schema, drop } = await freshSchema(inject("cairnTestPgUrl"));
    try {
      const url = new URL(inject("cairnTestPgUrl"));
      url.password = canaries.dbPassword; // the test server trusts local users: it is not asked for
      url.searchParams.set("schema", schema);
      const db = url.toString();
      for (const args of [
        ["migrate", "--db", db],
        ["migrate", "--db", db, "--json"],
      ]) {
        const r = await cli(args, { cwd: dir.path });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(":***@");
        collect(args.join(" "), r.stdout, r.stderr);
      }
      const server = startService(["server", "--db", db, "--port", "0", "--json"], {
        cwd: dir.path,
      });
      services.push(server);
      const summary = await server.ready;
      expect(summary.db).toContain(":***@");
      await server.stop();
      collect("server --db postgres", server.stdout(), server.stderr());
      const text = await cli(["runs", "list", "--db", db], { cwd: dir.path });
      collect("runs list --db postgres", text.stdout, text.stderr);
      for (const { what, text } of outputs) expect(hasCanary(text), what).toEqual([]);
    } finally {
      await drop();
    }
  });

  it("a running server's answers and debug logs show no secret", async () => {
    const server = startService(
      [
        "server",
        "--db",
        `sqlite:${join(dir.path, "cairn.db")}`,
        "--port",
        "0",
        "--json",
        "--log-level",
        "debug",
      ],
      { cwd: dir.path },
    );
    services.push(server);
    const url = (await server.ready).url as string;
    const answers: string[] = [];
    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${url}${path}`, init);
      answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
      return res;
    };
    const body = JSON.stringify({ release: "v1" });
    const sign = (secret: string, eventId: string) => ({
      "X-Cairn-Signature": signWebhook(secret, body, undefined, eventId),
      "X-Cairn-Event-Id": eventId,
    });
    const signed = sign(canaries.webhook, "e1");
    expect(
      (await call("/api/v1/hooks/deploy", { method: "POST", body, headers: signed })).status,
    ).toBe(202);
    // A replay, a wrong secret, an unknown hook.
    await call("/api/v1/hooks/deploy", { method: "POST", body, headers: signed });
    const wrong = sign(`${canaries.webhook}-wrong`, "e2");
    await call("/api/v1/hooks/deploy", { method: "POST", body, headers: wrong });
    await call("/api/v1/hooks/nope", { method: "POST", body, headers: signed });
    // A token in a header and in the query string, both refused or ignored; a bad body.
    await call("/api/v1/runs", { headers: { Authorization: `Bearer ${canaries.token}` } });
    await call(`/api/v1/runs?token=${canaries.token}`);
    await call("/api/v1/runs", {
      method: "POST",
      headers: { "content-type": "application/json", Authorization: `Bearer ${canaries.token}` },
      body: `{"workflow": "${canaries.webhook}"`,
    });
    for (const path of ["/metrics", "/readyz", "/api/v1/workflows", "/api/openapi.json"]) {
      await call(path);
    }
    // The remote client with a wrong token.
    const client = await cli(["runs", "list", "--url", url, "--token", canaries.token], {
      cwd: dir.path,
    });
    collect("runs list --token", client.stdout, client.stderr);
    await server.stop();
    collect("server answers", ...answers);
    collect("server output", server.stdout(), server.stderr());
    expect(server.stderr()).toContain('"level":20'); // debug lines were written
    for (const { what, text } of outputs) expect(hasCanary(text), what).toEqual([]);
  });
});
