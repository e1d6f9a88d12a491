/**
 * The files `cairn init` writes: a small ESM project with one workflow, its test and the
 * scripts `dev` and `test`. Kept as strings so the package ships them without a copy step.
 */

/** Versions the generated project pins: the lines this package is built and tested with. */
const devDependencies = {
  "@types/node": "^20.19.0",
  typescript: "~5.9.3",
  vitest: "^4.1.12",
};

/** Relative path → content of every file of a new project named `name`. */
export function projectFiles(name: string, cairnVersion: string): Record<string, string> {
  const packageJson = {
    name,
    version: "0.1.0",
    private: true,
    // ESM: Cairn is an ES module package, and `import` keeps workflow files simple.
    type: "module",
    scripts: {
      dev: "cairn dev workflows",
      test: "vitest run",
      typecheck: "tsc --noEmit",
    },
    dependencies: { cairnjs: `^${cairnVersion}` },
    devDependencies,
  };
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: ["node"],
    },
    include: ["workflows"],
  };
  return {
    "package.json": `${JSON.stringify(packageJson, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify(tsconfig, null, 2)}\n`,
    ".gitignore": "node_modules/\n.cairn/\n",
    "workflows/welcome.ts": welcomeWorkflow,
    "workflows/welcome.test.ts": welcomeTest,
    "README.md": readme(name),
  };
}

const welcomeWorkflow = `import { defineWorkflow } from "cairnjs";

/**
 * Greets a new user, waits a day, then sends a tip. Each \`ctx.step\` is a checkpoint: after a
 * crash the run resumes here and completed steps are not run again. The sleep is durable and
 * holds no worker while it waits.
 */
export const welcome = defineWorkflow(
  { name: "welcome", retry: { maxAttempts: 3 } },
  async (ctx, user: { name: string }) => {
    const greeting = await ctx.step("greet", () => \`Hello, \${user.name}!\`);
    await ctx.sleep("wait-a-day", "1d");
    const tip = await ctx.step("tip", () => \`\${user.name}, try \\\`cairn runs list\\\`.\`);
    return { greeting, tip };
  },
);
`;

const welcomeTest = `import { createTestCairn, waitForStatus } from "cairnjs/testing";
import { expect, test } from "vitest";
import { welcome } from "./welcome.ts";

test("welcome greets, sleeps a day, then sends a tip", async () => {
  const { cairn, clock, close } = await createTestCairn({ workflows: [welcome] });
  try {
    const run = await cairn.start(welcome, { name: "Ada" });
    await waitForStatus(cairn, run.id, "waiting"); // asleep: no worker holds it
    clock.advance("1d");
    expect(await run.result()).toEqual({
      greeting: "Hello, Ada!",
      tip: "Ada, try \`cairn runs list\`.",
    });
  } finally {
    await close();
  }
});
`;

function readme(name: string): string {
  return `# ${name}

Workflows run by [Cairn](https://www.npmjs.com/package/cairnjs).

- \`npm run dev\` runs the workflows in \`workflows/\` with a worker and the HTTP API on
  http://127.0.0.1:7420 (SQLite in \`.cairn/\`); editing a workflow reloads it.
- \`npx cairn run welcome --input '{"name":"Ada"}'\` starts a run; \`npx cairn runs list\` lists them.
- \`npm test\` runs the tests (\`cairnjs/testing\` gives an engine with a controllable clock).
`;
}
