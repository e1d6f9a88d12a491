import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpStep, isPrivateAddress } from "../../src/engine/flows/http-step.ts";
import { testCairn } from "../support/engine.ts";

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/json") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, method: req.method }));
    } else if (req.url === "/echo") {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(body);
      });
    } else if (req.url === "/to-localhost") {
      res.writeHead(302, { location: `http://localhost:${port}/json` });
      res.end();
    } else if (req.url === "/big") {
      res.end("x".repeat(100_000));
    } else if (req.url === "/500") {
      res.writeHead(500);
      res.end("down");
    } else {
      res.writeHead(404);
      res.end("no");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const signal = () => new AbortController().signal;

describe("http steps", () => {
  it("classifies private, loopback and link-local addresses", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "100.64.0.1",
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700::1111"])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it("refuses loopback targets by default, by address and by a name resolving to one", async () => {
    await expect(httpStep({ url: `http://127.0.0.1:${port}/json` }, signal())).rejects.toThrow(
      /private, loopback or link-local/,
    );
    await expect(httpStep({ url: `http://localhost:${port}/json` }, signal())).rejects.toThrow(
      /"localhost:\d+" resolves to (127\.0\.0\.1|::1)/,
    );
    await expect(httpStep({ url: "http://[::1]:1/" }, signal())).rejects.toThrow(/private/);
    await expect(httpStep({ url: "file:///etc/passwd" }, signal())).rejects.toThrow(
      /only http and https/,
    );
  });

  it("checks every redirect's target", async () => {
    await expect(
      httpStep({ url: `http://127.0.0.1:${port}/to-localhost` }, signal(), {
        allowHosts: ["127.0.0.1"],
      }),
    ).rejects.toThrow(/"localhost:\d+" resolves to/);
    const followed = await httpStep({ url: `http://127.0.0.1:${port}/to-localhost` }, signal(), {
      allowPrivateNetworks: true,
    });
    expect(followed.body).toEqual({ ok: true, method: "GET" });
  });

  it("caps the response size, retries 5xx, fails 4xx for good", async () => {
    const allow = { allowPrivateNetworks: true };
    await expect(
      httpStep({ url: `http://127.0.0.1:${port}/big`, maxResponseBytes: 1_000 }, signal(), allow),
    ).rejects.toThrow(/over the limit of 1000 bytes/);
    await expect(
      httpStep({ url: `http://127.0.0.1:${port}/500` }, signal(), allow),
    ).rejects.toMatchObject({
      code: "RETRYABLE",
    });
    await expect(
      httpStep({ url: `http://127.0.0.1:${port}/nope` }, signal(), allow),
    ).rejects.toMatchObject({
      code: "NON_RETRYABLE",
    });
  });

  it("runs as a flow step with a JSON body when the configuration allows the target", async () => {
    const t = await testCairn({ flows: { http: { allowHosts: ["127.0.0.1"] } } });
    try {
      await t.cairn.flows.deploy(`
name: caller
steps:
  - id: call
    http: { method: POST, url: "http://127.0.0.1:${port}/echo", body: "={ 'n': input.n }" }
output: "=steps.call.body"
`);
      expect(await (await t.cairn.start("caller", { n: 7 })).result()).toEqual({ n: 7 });
    } finally {
      await t.close();
    }
  });
});
