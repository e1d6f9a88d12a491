/**
 * `npm run screenshots`: starts `cairn dev` on the browser tests' fixture workflows, makes
 * a few runs, and writes PNGs of the main pages to docs/ui/ with Debian's chromium.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { stringify } from "yaml";
import { fanOutFanIn } from "../bench/flow-layout-shapes.ts";
import { startUi, viewportStill } from "../test/ui/support/ui-harness.ts";
// @ts-expect-error a plain .mjs script without type declarations
import { ensureUi } from "./ensure-ui.mjs";

interface Run {
  id: string;
  status: string;
}

const out = join(import.meta.dirname, "../docs/ui");

/** A small flow for the editor's picture: a forEach group, and an input read without `needs`. */
const orderFlow = `name: orders
input:
  type: object
  properties:
    customer: { type: string }
steps:
  - id: load
    action: load-orders
    with: { customer: "=input.customer" }
  - id: each
    needs: [load]
    forEach:
      items: "=steps.load.orders"
      steps:
        - id: charge
          action: charge
          with: { order: "=item" }
        - id: receipt
          needs: [charge]
          action: send-receipt
  - id: report
    action: report
    with: { orders: "=steps.load.orders", charged: "=steps.each" }
`;

mkdirSync(out, { recursive: true });
(ensureUi as () => boolean)();

const h = await startUi();
try {
  const start = (workflow: string, input: unknown, id?: string) =>
    h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow, input, ...(id ? { id } : {}) },
    });
  const checkout = await start(
    "checkout",
    { orderId: "A-1042", quantity: 2, express: true, currency: "EUR" },
    "order-A-1042",
  );
  for (const [i, id] of ["A-1043", "A-1044", "A-1045"].entries()) {
    await start(
      "checkout",
      { orderId: id, quantity: i + 1, express: false, currency: "USD" },
      `order-${id}`,
    );
  }
  await start("flaky", { fail: true }, "import-2030-01-07");
  await start("flaky", { fail: false }, "import-2030-01-08");
  await start("approval", { id: "exp-77" }, "expense-77");
  await start("approval", { id: "exp-78" }, "expense-78");
  await h.api("/api/v1/events", {
    method: "POST",
    body: { name: "approval.granted", data: { id: "exp-78" } },
  });

  const page = await h.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  const shot = async (name: string, target: Page = page) => {
    await target.screenshot({ path: join(out, `${name}.png`) });
    console.log(`docs/ui/${name}.png`);
  };

  await page.goto("/runs");
  await page.locator('tr[data-run-id="expense-77"] [data-status="waiting"]').waitFor();
  await page.locator('tr[data-run-id="import-2030-01-07"] [data-status="failed"]').waitFor();
  await shot("runs");

  await page.goto(`/runs/${checkout.id}`);
  await page.locator('h1 [data-status="completed"]').waitFor();
  await page.locator('button[data-step="charge"]').click();
  await page.getByRole("region", { name: "Step charge" }).waitFor();
  await shot("run");

  await page.goto("/runs/expense-77");
  await page.locator('h1 [data-status="waiting"]').waitFor();
  await shot("run-waiting");

  await page.goto("/workflows");
  await page.getByRole("heading", { name: "Workflows" }).waitFor();
  await page.locator(".recent-runs").first().waitFor();
  await shot("workflows");

  await page.goto("/workflows/checkout");
  await page.getByRole("button", { name: "Start run" }).click();
  await shot("start-run");

  await page.goto("/schedules");
  await page.locator("tr", { hasText: "nightly-report" }).waitFor();
  await page.getByRole("button", { name: "Backfill…" }).click();
  await page.getByLabel("From (your time)").fill("2030-01-01T00:00");
  await page.getByLabel("To (your time)").fill("2030-01-08T00:00");
  await page.getByTestId("backfill-preview").waitFor();
  await shot("schedules-backfill");

  await h.api("/api/v1/flows", { method: "POST", body: { source: orderFlow } });
  await page.goto("/flows/orders");
  await page.locator('[data-testid="flow-canvas"][data-laid-out="yes"]').waitFor();
  await page.locator('[data-testid="node-each/charge"]').waitFor();
  await viewportStill(page, 5); // the canvas has fitted the graph into view
  await shot("flow-editor");
  await page.locator('[data-testid="node-report"]').click();
  await page.getByTestId("step-test-form").waitFor();
  await shot("flow-step-test");

  await h.api("/api/v1/flows", {
    method: "POST",
    body: { source: stringify({ name: "large", steps: fanOutFanIn(300) }) },
  });
  await page.goto("/flows/large");
  await page.locator('[data-testid="flow-canvas"][data-laid-out="yes"]').waitFor();
  await viewportStill(page, 5); // the canvas has fitted the graph into view
  await shot("flow-large");

  await page.goto("/events");
  await page.getByRole("heading", { name: "Events" }).waitFor();
  await page.locator(".empty, .table-wrap, .alert").first().waitFor();
  await shot("events");

  await page.goto("/workers");
  await page.getByRole("heading", { name: "Workers" }).waitFor();
  await page.locator(".empty, .table-wrap, .alert").first().waitFor();
  await shot("workers");

  await page.evaluate(() =>
    (globalThis as unknown as { sessionStorage: { clear(): void } }).sessionStorage.clear(),
  );
  await page.goto("/sign-in");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot("sign-in");
} finally {
  await h.close();
}
