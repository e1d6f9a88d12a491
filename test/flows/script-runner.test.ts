import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { runScript } from "../../src/worker/script/run-script.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Processes whose command line carries `marker` (a unique string), from `ps`. */
function processesWith(marker: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out.split("\n").filter((line) => line.includes(marker) && !line.includes("ps -eo"));
}

/** The pid file a script wrote once its background children were up. */
async function waitForFile(path: string, signal: AbortSignal): Promise<string> {
  const { watch } = await import("node:fs/promises");
  const { dirname, basename } = await import("node:path");
  try {
    return readFileSync(path, "utf8");
  } catch {}
  for await (const event of watch(dirname(path), { signal })) {
    if (event.filename === basename(path)) {
      try {
        const text = readFileSync(path, "utf8");
        if (text.endsWith("\n")) return text;
      } catch {}
    }
  }
  throw new Error("watch ended");
}

describe("script runner", () => {
  it("runs each language with its convention and a clean environment", async () => {
    process.env.CAIRN_TEST_SECRET_LEAK = "leak";
    // Test files share worker processes: the variable must not outlive this test.
    onTestFinished(() => {
      delete process.env.CAIRN_TEST_SECRET_LEAK;
    });
    const py = await runScript({
      lang: "python",
      source:
        "import os\ndef main(a, b=2):\n    return {'sum': a + b, 'leak': os.environ.get('CAIRN_TEST_SECRET_LEAK')}\n",
      input: { a: 1, b: 5, unused: true },
    });
    expect(py.output).toEqual({ sum: 6, leak: null });
    const sh = await runScript({
      lang: "bash",
      source:
        'echo "log" >&2; echo "$CAIRN_ARG_NAME/$CAIRN_ARG_N/$MY_VAR/$CAIRN_TEST_SECRET_LEAK."',
      input: { name: "x", n: 3 },
      env: { MY_VAR: "v" },
    });
    expect(sh.output).toBe("x/3/v/.");
    const stdin = await runScript({
      lang: "bash",
      source: "cat; echo",
      input: { name: "x", n: 3 },
    });
    expect(stdin.output).toEqual({ name: "x", n: 3 });
    const plain = await runScript({ lang: "bash", source: "echo not json" });
    expect(plain.output).toBe("not json");
    const ts = await runScript({
      lang: "typescript",
      source: "export default ({ n }: { n: number }): number => n * 2;",
      input: { n: 21 },
    });
    expect(ts.output).toBe(42);
    const js = await runScript({
      lang: "javascript",
      source: "export default async (x) => [x.a]",
      input: { a: "z" },
    });
    expect(js.output).toEqual(["z"]);
  }, 30_000);

  it("calls a Python main by its named parameters, **kwargs or async, with the script as a module", async () => {
    const dataclass = [
      "from dataclasses import dataclass",
      "@dataclass",
      "class Point:",
      "    x: int",
      "def main(a, *, c=0):",
      "    return {'a': Point(a).x, 'c': c, 'module': __name__}",
    ].join("\n");
    expect(
      (await runScript({ lang: "python", source: dataclass, input: { a: 1, c: 2, extra: 3 } }))
        .output,
    ).toEqual({ a: 1, c: 2, module: "cairn_script" });
    const kwargs = "def main(**kw):\n    return sorted(kw)\n";
    expect(
      (await runScript({ lang: "python", source: kwargs, input: { b: 1, a: 2 } })).output,
    ).toEqual(["a", "b"]);
    const asynchronous = "async def main(n):\n    return n * 2\n";
    expect(
      (await runScript({ lang: "python", source: asynchronous, input: { n: 21 } })).output,
    ).toBe(42);
  });

  it("fails with the tail of stderr: a Python traceback, a Bash exit code", async () => {
    await expect(
      runScript({ lang: "python", source: "def main():\n    raise KeyError('missing-key')\n" }),
    ).rejects.toThrow(/KeyError: 'missing-key'/);
    await expect(
      runScript({ lang: "bash", source: "echo bad things >&2; exit 3" }),
    ).rejects.toThrow(/exited with code 3:\nbad things/);
  });

  it("runs TypeScript compiled in the worker on plain node; with local imports, through tsx", async () => {
    const selfContained = await runScript({
      lang: "typescript",
      source:
        'import { EOL } from "node:os";\nexport default ({ n }: { n: number }) => ({ n: n + 1, eol: EOL, argv: process.execArgv });',
      input: { n: 1 },
    });
    const plain = selfContained.output as { n: number; eol: string; argv: string[] };
    expect(plain).toMatchObject({ n: 2, eol: "\n" });
    expect(plain.argv.join(" ")).not.toContain("tsx");
    // The inline source map points an error at the TypeScript line.
    await expect(
      runScript({
        lang: "typescript",
        source: "type T = number;\n\nexport default (): T => { throw new Error('boom-ts'); };\n",
      }),
    ).rejects.toThrow(/boom-ts[\s\S]*script\.ts:3/);

    dir = mkdtempSync(join(tmpdir(), "cairn-ts-"));
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    writeFileSync(join(dir, "helper.ts"), "export const twice = (n: number): number => n * 2;\n");
    writeFileSync(
      join(dir, "main.ts"),
      'import { twice } from "./helper.ts";\nexport default ({ n }: { n: number }) => ({ n: twice(n), argv: process.execArgv });\n',
    );
    const withImport = await runScript({
      lang: "typescript",
      file: join(dir, "main.ts"),
      input: { n: 21 },
    });
    const viaTsx = withImport.output as { n: number; argv: string[] };
    expect(viaTsx.n).toBe(42);
    expect(viaTsx.argv.join(" ")).toContain("tsx");
  });

  for (const how of ["timeout", "cancel"] as const) {
    it(`kills the whole process group on ${how}, leaving no orphan`, async () => {
      dir = mkdtempSync(join(tmpdir(), "cairn-pg-"));
      const marker = `cairn-orphan-${how}-${process.pid}-${Date.now()}`;
      const pids = join(dir, "pids");
      // A child, a grandchild in the background, and a trap that ignores SIGTERM.
      const source = `trap '' TERM
bash -c 'exec -a ${marker} sleep 300' &
(bash -c 'exec -a ${marker} sleep 300' &) 
echo $$ > ${pids}.tmp; mv ${pids}.tmp ${pids}; echo >> ${pids}
sleep 300
`;
      const controller = new AbortController();
      const watching = new AbortController();
      const running = runScript({
        lang: "bash",
        source,
        killGraceMs: 200,
        ...(how === "timeout" ? { timeoutMs: 1_500 } : { signal: controller.signal }),
      });
      running.catch(() => {});
      await waitForFile(pids, watching.signal);
      watching.abort();
      // The subshell's `bash` may start just after the pid file is written.
      const deadline = Date.now() + 5_000;
      while (processesWith(marker).length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(processesWith(marker).length).toBe(2);
      if (how === "cancel") controller.abort(new Error("cancelled"));
      await expect(running).rejects.toThrow(how === "timeout" ? /timed out/ : /cancelled/);
      expect(processesWith(marker)).toEqual([]);
    }, 20_000);
  }

  it("caps 50 MB of stdout and stderr instead of buffering it", async () => {
    let kept = 0;
    const before = process.memoryUsage().rss;
    const result = await runScript({
      lang: "python",
      source:
        "import sys\ndef main():\n    chunk = 'x' * 1024 * 1024\n    for _ in range(25):\n        sys.stdout.write(chunk)\n        sys.stderr.write(chunk)\n    return 'done'\n",
      maxLogBytes: 64 * 1024,
      onOutput: (_stream, chunk) => {
        kept += chunk.length;
      },
    });
    expect(result.output).toBe("done");
    expect(result.logBytes).toBe(50 * 1024 * 1024);
    expect(kept).toBeLessThan(70 * 1024);
    // Nothing near the 50 MB stayed in memory (a generous bound: GC timing varies).
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
  }, 30_000);

  it("reports a missing interpreter clearly", async () => {
    await expect(
      runScript({ lang: "python", source: "x", interpreters: { python: "/nonexistent/python9" } }),
    ).rejects.toThrow(/No python interpreter found|could not start/);
  });
});
