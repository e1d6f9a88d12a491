import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import type { ScriptLanguage } from "../../core/flow/flow-schema.ts";
import { addConfigOptions } from "../config-keys.ts";
import { apiOrDatabase } from "../engine.ts";
import { UsageError } from "../errors.ts";
import { formatTable, formatTime, print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

interface Summary {
  name: string;
  version: number;
  hash: string;
  description: string | null;
  author: string | null;
  createdAt: string | number;
}

/** `cairn flows validate|deploy|list|show|versions`: flow documents (YAML/JSON DAGs). */
export function registerFlowCommands(program: Command): void {
  const flows = program.command("flows").description("flow documents: validate, deploy, list");

  flows
    .command("validate")
    .description("check flow files; exits 2 listing every error")
    .argument("<files...>", "*.flow.yaml / *.flow.json files")
    .option("--json", "print the result as JSON")
    .action(async (files: string[], opts) => {
      const { displayPath, readFlowFile } = await import("../flow-files.ts");
      const { prepareFlow, FlowInvalidError } = await import("../../engine/flows/prepare-flow.ts");
      const { interpreterFor } = await import("../../engine/flows/flow-services.ts");
      const results: { file: string; ok: boolean; name?: string; errors?: string[] }[] = [];
      for (const file of files) {
        const { source, files: scripts } = readFlowFile(file);
        try {
          const { document } = await prepareFlow(source, {
            baseDir: dirname(resolve(file)),
            files: scripts,
            interpreterAvailable: (lang: ScriptLanguage) => interpreterFor(lang) !== null,
          });
          results.push({ file: displayPath(file), ok: true, name: document.name });
        } catch (error) {
          if (!(error instanceof FlowInvalidError)) throw error;
          results.push({ file: displayPath(file), ok: false, errors: error.errors });
        }
      }
      if (opts.json) printJson(results);
      else {
        for (const r of results) {
          if (r.ok) print(`ok  ${r.file}  (flow "${r.name}")`);
          else
            process.stderr.write(`${r.file}:\n${(r.errors ?? []).map((e) => `  ${e}\n`).join("")}`);
        }
      }
      const bad = results.filter((r) => !r.ok);
      if (bad.length > 0) {
        throw new UsageError(`${bad.length} of ${results.length} flow file(s) are invalid.`);
      }
    });

  const deploy = flows
    .command("deploy")
    .description("deploy flow files; a changed document becomes a new version")
    .argument("<files...>", "*.flow.yaml / *.flow.json files")
    .option("--json", "print the result as JSON");
  addConfigOptions(deploy, ["url", "token", "db"]).action(async (files: string[], opts) => {
    // Loaded here, not at start-up: the flow schema and parsers would slow every command.
    const { displayPath, readFlowFile } = await import("../flow-files.ts");
    const resolved = await resolveConfig(deploy);
    const results = [];
    for (const file of files) {
      const { source, files: scripts } = readFlowFile(file);
      const result = await apiOrDatabase(
        resolved,
        (remote) => remote.flows.deploy(source, { files: scripts }),
        (cairn) =>
          cairn.flows.deploy(source, {
            baseDir: dirname(resolve(file)),
            files: scripts,
            author: "cli",
          }),
      );
      results.push({ file: displayPath(file), ...result });
    }
    if (opts.json) return printJson(results);
    for (const r of results) {
      print(
        r.created
          ? `deployed ${r.name} v${r.version}  (${r.file})`
          : `unchanged ${r.name} v${r.version}  (${r.file})`,
      );
    }
  });

  const list = flows
    .command("list")
    .description("list deployed flows")
    .option("--json", "print JSON");
  addConfigOptions(list, ["url", "token", "db"]).action(async (opts) => {
    const resolved = await resolveConfig(list);
    const found = await apiOrDatabase(
      resolved,
      (remote): Promise<Summary[]> => remote.flows.list(),
      async (cairn) => await cairn.store.flows.latest(),
    );
    if (opts.json) return printJson(found);
    if (found.length === 0) return print("No flows deployed.");
    print(
      formatTable(
        ["NAME", "VERSION", "DEPLOYED", "DESCRIPTION"],
        found.map((f) => [f.name, `v${f.version}`, formatTime(f.createdAt), f.description ?? ""]),
      ),
    );
  });

  const show = flows
    .command("show")
    .description("print a flow's document (the latest version, or the one given)")
    .argument("<name>")
    .argument("[version]", "a version number")
    .option("--json", "print the version with its parsed document as JSON");
  addConfigOptions(show, ["url", "token", "db"]).action(
    async (name: string, v: string | undefined, opts) => {
      const resolved = await resolveConfig(show);
      const version = v === undefined ? undefined : Number(v);
      if (version !== undefined && !(Number.isInteger(version) && version > 0)) {
        throw new UsageError(`The version must be a positive integer, got "${v}".`);
      }
      const found = await apiOrDatabase(
        resolved,
        (remote): Promise<{ source: string }> => remote.flows.get(name, version),
        async (cairn) => {
          const record = await cairn.store.flows.get(name, version);
          if (!record)
            throw new UsageError(`No flow "${name}"${version ? ` version ${version}` : ""}.`);
          return { ...record, document: JSON.parse(record.document) };
        },
      );
      if (opts.json) return printJson(found);
      print(found.source.trimEnd());
    },
  );

  const versions = flows
    .command("versions")
    .description("list a flow's versions")
    .argument("<name>")
    .option("--json", "print JSON");
  addConfigOptions(versions, ["url", "token", "db"]).action(async (name: string, opts) => {
    const resolved = await resolveConfig(versions);
    const found = await apiOrDatabase(
      resolved,
      (remote): Promise<Summary[]> => remote.flows.versions(name),
      async (cairn) => await cairn.store.flows.versions(name),
    );
    if (found.length === 0) throw new UsageError(`No flow "${name}".`);
    if (opts.json) return printJson(found);
    print(
      formatTable(
        ["VERSION", "DEPLOYED", "AUTHOR", "HASH"],
        found.map((v) => [
          `v${v.version}`,
          formatTime(v.createdAt),
          v.author ?? "",
          v.hash.slice(0, 12),
        ]),
      ),
    );
  });
}
