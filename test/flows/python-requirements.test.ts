import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Cairn } from "../../src/index.ts";
import { interpreterFor } from "../../src/worker/script/interpreters.ts";
import { runScript } from "../../src/worker/script/run-script.ts";

/** Why these tests cannot run here, or null: they need `python3 -m venv` with ensurepip. */
function venvUnavailable(): string | null {
  const python = interpreterFor("python");
  if (!python) return "no python3 on this machine";
  try {
    execFileSync(python, ["-c", "import venv, ensurepip"], { stdio: "pipe" });
    return null;
  } catch {
    return `${python} has no venv/ensurepip module (install python3-venv)`;
  }
}

const skipReason = venvUnavailable();
if (skipReason) console.warn(`python requirements tests skipped: ${skipReason}`);

const dir = mkdtempSync(join(tmpdir(), "cairn-pyreq-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A minimal wheel of package `cairn_probe` (VALUE = 42), built here so the install needs no
 * network: pip installs a local wheel file offline.
 */
function buildProbeWheel(): string {
  const script = `
import base64, hashlib, sys, zipfile
name, ver = "cairn_probe", "1.0"
files = {
    f"{name}/__init__.py": "VALUE = 42\\n",
    f"{name}-{ver}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {ver}\\n",
    f"{name}-{ver}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: cairn-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
for path, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(text.encode())}")
record.append(f"{name}-{ver}.dist-info/RECORD,,")
files[f"{name}-{ver}.dist-info/RECORD"] = "\\n".join(record) + "\\n"
out = f"{sys.argv[1]}/{name}-{ver}-py3-none-any.whl"
with zipfile.ZipFile(out, "w") as z:
    for path, text in files.items():
        z.writestr(path, text)
print(out)
`;
  return execFileSync(interpreterFor("python") as string, ["-c", script, dir], {
    encoding: "utf8",
  }).trim();
}

const probeScript = `
import sys
import cairn_probe
def main():
    return {"value": cairn_probe.VALUE, "prefix": sys.prefix}
`;

describe.skipIf(skipReason !== null)("Python requirements (needs python3 -m venv)", () => {
  it("are not installed unless the worker opts in", async () => {
    const wheel = buildProbeWheel();
    await expect(
      runScript({ lang: "python", source: probeScript, requirements: [wheel] }),
    ).rejects.toThrow(/No module named 'cairn_probe'/);
  });

  it("install into a virtualenv cached by requirement set, reused by the next run", async () => {
    const wheel = buildProbeWheel();
    const cacheDir = join(dir, "envs");
    const cairn = await Cairn.open({
      db: `sqlite:${join(dir, "flows.db")}`,
      flows: { pythonRequirements: { install: true, cacheDir } },
    });
    try {
      await cairn.worker();
      await cairn.flows.deploy(`
name: probe
steps:
  - id: probe
    script:
      lang: python
      requirements: ["${wheel}"]
      source: |
${probeScript
  .split("\n")
  .map((line) => `        ${line}`)
  .join("\n")}
output: "=steps.probe"
`);
      const first = (await (await cairn.start("probe", {})).result()) as {
        value: number;
        prefix: string;
      };
      expect(first.value).toBe(42);
      expect(first.prefix.startsWith(cacheDir)).toBe(true);
      const envs = readdirSync(cacheDir);
      expect(envs).toHaveLength(1);
      const builtAt = statSync(join(cacheDir, envs[0] as string, ".cairn-ready")).mtimeMs;

      const second = await (await cairn.start("probe", {})).result();
      expect(second).toEqual(first);
      expect(readdirSync(cacheDir)).toEqual(envs);
      expect(statSync(join(cacheDir, envs[0] as string, ".cairn-ready")).mtimeMs).toBe(builtAt);
    } finally {
      await cairn.close();
    }
  }, 120_000);

  it("fail with pip's error naming a requirement that cannot be installed", async () => {
    const cacheDir = join(dir, "envs-unreachable");
    const attempt = runScript({
      lang: "python",
      source: "def main():\n    return 1\n",
      requirements: ["cairn-no-such-package==1.0"],
      // An index nobody listens on: what an offline worker sees.
      pythonRequirements: {
        install: true,
        cacheDir,
        pipArgs: ["--index-url", "http://127.0.0.1:9/simple", "--retries", "0"],
      },
    });
    await expect(attempt).rejects.toThrow(
      /Could not install the Python requirement cairn-no-such-package==1\.0:\nERROR: .*cairn-no-such-package/,
    );
    // Nothing half-built stays in the cache.
    expect(readdirSync(cacheDir)).toEqual([]);
  }, 120_000);
});
