import type { Command } from "commander";

/** `cairn init [dir]`: a ready project with one workflow, its test, and `dev`/`test` scripts. */
export function registerInitCommand(program: Command, version: string): void {
  program
    .command("init")
    .description("create a project: package.json, tsconfig, a workflow and its test, installed")
    .argument("[dir]", "folder to create the project in (default: the current folder)", ".")
    .option("--no-install", "write the files only; skip npm install")
    .action(async (dir: string, opts: { install: boolean }) => {
      const { initProject } = await import("../init/init-project.ts");
      await initProject(dir, { install: opts.install, cairnVersion: version });
    });
}
