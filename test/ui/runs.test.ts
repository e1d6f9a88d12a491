import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeViolations,
  seriousA11yViolations,
  startUi,
  type UiHarness,
} from "./support/ui-harness.ts";

interface Run {
  id: string;
  status: string;
}

let h: UiHarness;
beforeAll(async () => {
  h = await startUi();
});
afterAll(async () => {
  await h?.close();
});

const checkout = (orderId: string) => ({
  workflow: "checkout",
  input: { orderId, quantity: 2, express: false, currency: "EUR" },
});

describe("runs page", () => {
  it("shows a run started elsewhere appear and finish live, with no a11y violations", async () => {
    const page = await h.newPage();
    await page.goto("/runs");
    await page.getByText("No runs yet.").waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");

    const run = await h.api<Run>("/api/v1/runs", { method: "POST", body: checkout("live-1") });
    const row = page.locator(`tr[data-run-id="${run.id}"]`);
    await row.waitFor();
    await row.locator('[data-status="completed"]').waitFor();
    expect(await row.textContent()).toContain("checkout");
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    h.assertNoConsoleErrors();
    await page.close();
  });

  it("filters by status in the URL", async () => {
    const failed = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "flaky", input: { fail: true } },
    });
    const page = await h.newPage();
    await page.goto("/runs?status=failed");
    await page.locator(`tr[data-run-id="${failed.id}"] [data-status="failed"]`).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.getByLabel("Status").selectOption("completed");
    await page.waitForURL(/status=completed/);
    await page.locator(`tr[data-run-id="${failed.id}"]`).waitFor({ state: "detached" });
    await page.close();
  });
});

describe("run page", () => {
  it("draws the waterfall with the failed attempt, and a step's output", async () => {
    const run = await h.api<Run>("/api/v1/runs", { method: "POST", body: checkout("wf-1") });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="completed"]').waitFor();
    for (const key of ["reserve", "charge", "ship"]) {
      await page.locator(`button[data-step="${key}"]`).waitFor();
    }
    const charge = page.locator('button[data-step="charge"]');
    await charge.getByText("1 failed attempt").waitFor();
    await charge.click();
    const detail = page.getByRole("region", { name: "Step charge" });
    await detail.getByText('"chargeId": "ch_wf-1"').waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    h.assertNoConsoleErrors();
    await page.close();
  });

  it("cancels a waiting run", async () => {
    const run = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "approval", input: { id: "a-1" } },
    });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="waiting"]').waitFor();
    await page.locator('button[data-step="approved"]').getByText("waits for event").waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator('h1 [data-status="cancelled"]').waitFor();
    expect((await h.api<Run>(`/api/v1/runs/${run.id}`)).status).toBe("cancelled");
    await page.close();
  });

  it("retries a failed run until it completes", async () => {
    const run = await h.api<Run>("/api/v1/runs", {
      method: "POST",
      body: { workflow: "flaky", input: { fail: true } },
    });
    const page = await h.newPage();
    await page.goto(`/runs/${run.id}`);
    await page.locator('h1 [data-status="failed"]').waitFor();
    await page
      .getByRole("region", { name: "Run error" })
      .getByText("transform failed on purpose", { exact: true })
      .waitFor();
    await page.getByRole("button", { name: "Retry run" }).click();
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.close();
  });

  it("says so for a run id that does not exist, without a script error", async () => {
    const page = await h.newPage();
    await page.goto("/runs/no-such-run");
    await page.getByText('There is no run with id "no-such-run"').waitFor();
    h.assertNoConsoleErrors();
    await page.close();
  });
});
