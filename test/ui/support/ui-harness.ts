/**
 * Browser tests of the web UI: a real `cairn dev` child process (temp SQLite database, free
 * port) serving the built UI, driven by Debian's chromium through playwright-core.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { cli, root, type Service, startService } from "../../cli/cli.ts";

export const fixtures = join(root, "test/ui/fixtures");
const require = createRequire(import.meta.url);

export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface UiHarness {
  url: string;
  db: string;
  /** The admin token's secret, when started with `{ token: true }`. */
  token: string | undefined;
  dev: Service;
  context: BrowserContext;
  /** A new tab; its console errors fail {@link UiHarness.assertNoConsoleErrors}. */
  newPage(): Promise<Page>;
  /** Calls the API like a script would (with the token, when one is configured). */
  api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  assertNoConsoleErrors(): void;
  /** Kills `cairn dev` (SIGKILL) and returns a function that starts it again on the same port and database. */
  crash(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A port that was free a moment ago (the server must come back on the same one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `cairn dev <fixtures>` (or `folder`) and a browser; with `token`, an admin token
 * exists first.
 */
export async function startUi(
  options: { token?: boolean; folder?: string } = {},
): Promise<UiHarness> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-ui-"));
  const db = `sqlite:${join(dir, "cairn.db")}`;
  let secret: string | undefined;
  if (options.token) {
    const created = await cli([
      "tokens",
      "create",
      "--name",
      "ui-test",
      "--role",
      "admin",
      "--json",
      "--db",
      db,
    ]);
    if (created.code !== 0) throw new Error(`tokens create failed: ${created.stderr}`);
    secret = (JSON.parse(created.stdout) as { secret: string }).secret;
  }
  const folder = options.folder ?? fixtures;
  const args = ["dev", folder, "--port", String(await freePort()), "--json", "--db", db];
  let dev = startService(args);
  const summary = await dev.ready;
  const url = summary.url as string;
  const context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1400, height: 900 },
    timezoneId: "UTC",
    locale: "en-US",
    baseURL: url,
  });
  const consoleErrors: string[] = [];
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (secret) headers.Authorization = `Bearer ${secret}`;
  return {
    url,
    db,
    get dev() {
      return dev;
    },
    context,
    token: secret,
    async newPage() {
      const page = await context.newPage();
      page.on("console", (message) => {
        // Failed requests the UI handles itself (a 401, a 404 for a missing run) are
        // logged by the browser too; only script errors and CSP violations count.
        if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
          consoleErrors.push(message.text());
        }
      });
      page.on("pageerror", (error) => consoleErrors.push(error.message));
      return page;
    },
    async api<T>(path: string, init: { method?: string; body?: unknown } = {}) {
      const response = await fetch(`${url}${path}`, {
        method: init.method ?? "GET",
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    assertNoConsoleErrors() {
      if (consoleErrors.length > 0) {
        throw new Error(`The browser console reported errors:\n${consoleErrors.join("\n")}`);
      }
    },
    async crash() {
      await dev.stop("SIGKILL");
      return async () => {
        dev = startService(args);
        await dev.ready;
      };
    },
    async close() {
      await context.close().catch(() => {});
      await dev.stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core on the page as it is (WCAG 2.1 A/AA rules) and returns the serious and
 * critical violations. Injected through the DevTools protocol, so the page's CSP stays on.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const result = await axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** A readable assertion message for violations. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`,
    )
    .join("\n");
}

/** Resolves once every flow canvas's viewport has held still for `frames` animation frames. */
export async function viewportStill(page: Page, frames: number): Promise<void> {
  await page.evaluate(`new Promise((resolve) => {
    let last = "";
    let still = 0;
    const check = () => {
      const now = [...document.querySelectorAll(".react-flow__viewport")].map((v) => v.style.transform).join("|");
      still = now === last ? still + 1 : 0;
      last = now;
      if (still >= ${frames}) resolve(null);
      else requestAnimationFrame(check);
    };
    check();
  })`);
}

/**
 * Resolves once the run page shows run `runId` with `status`. After a client-side
 * navigation from another run's page, a bare `h1 [data-status=…]` can still match the
 * previous run's heading until the new run has loaded.
 */
export async function runHeadingShows(page: Page, runId: string, status: string): Promise<void> {
  await page
    .locator("h1.run-title")
    .filter({ has: page.getByText(runId, { exact: true }) })
    .locator(`[data-status="${status}"]`)
    .waitFor();
}
