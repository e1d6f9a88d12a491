import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, json, startHarness } from "../server/harness.ts";

const original = `# nightly report, edited by hand and in the UI
name: saved-flow
steps:
  - id: wait # a short pause
    sleep: 1s
`;

let h: Harness;
let dir: string;
let file: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-flow-file-"));
  file = join(dir, "saved.flow.yaml");
  writeFileSync(file, original);
  h = await startHarness({ server: { flowFiles: [file] } });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("saving a cairn dev flow back to its file", () => {
  it("names the file a flow came from, and 404s for flows that did not come from a file", async () => {
    const found = await h.fetch("/api/v1/flows/saved-flow/file");
    expect(found.status).toBe(200);
    expect((await json<{ path: string }>(found)).path).toMatch(/saved\.flow\.yaml$/);
    expect((await h.fetch("/api/v1/flows/other/file")).status).toBe(404);
  });

  it("writes the edited text as given, comments included, and deploys it as a new version", async () => {
    const edited = `${original}  - id: after # added in the editor\n    needs: [wait]\n    sleep: 2s\n`;
    const saved = await h.post("/api/v1/flows/saved-flow/file", { source: edited });
    expect(saved.status).toBe(201);
    expect(await json(saved)).toMatchObject({ name: "saved-flow", created: true });
    expect(readFileSync(file, "utf8")).toBe(edited);
    const latest = await json<{ source: string }>(await h.fetch("/api/v1/flows/saved-flow"));
    expect(latest.source).toBe(edited);
  });

  it("leaves the file alone when the document is invalid or renamed", async () => {
    const before = readFileSync(file, "utf8");
    const cyclic = "name: saved-flow\nsteps:\n  - id: a\n    needs: [a]\n    sleep: 1s\n";
    const invalid = await h.post("/api/v1/flows/saved-flow/file", { source: cyclic });
    expect(invalid.status).toBe(422);
    expect((await json<{ errors: string[] }>(invalid)).errors.join("\n")).toMatch(/cycle/);
    const renamed = await h.post("/api/v1/flows/saved-flow/file", {
      source: before.replace("name: saved-flow", "name: elsewhere"),
    });
    expect(renamed.status).toBe(400);
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
