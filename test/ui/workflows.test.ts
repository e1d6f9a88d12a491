import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeViolations,
  seriousA11yViolations,
  startUi,
  type UiHarness,
} from "./support/ui-harness.ts";

let h: UiHarness;
beforeAll(async () => {
  h = await startUi();
});
afterAll(async () => {
  await h?.close();
});

describe("workflows", () => {
  it("lists workflows with their triggers", async () => {
    const page = await h.newPage();
    await page.goto("/workflows");
    const card = page.getByRole("article", { name: "nightly-report" });
    await card.getByText("cron 0 2 * * * (Europe/Paris)").waitFor();
    await page.getByRole("article", { name: "checkout" }).waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    await page.close();
  });

  it("starts a run from the form generated from the input schema, showing validation errors first", async () => {
    const page = await h.newPage();
    await page.goto("/workflows/checkout");
    const form = page.getByRole("form", { name: "Start checkout" });
    await form.getByLabel("orderId").fill("ab");
    expect(await form.getByLabel("quantity").inputValue()).toBe("1");
    await form.getByRole("button", { name: "Start run" }).click();
    const alert = form.getByRole("alert");
    await alert.getByText("must be at least 3 characters").waitFor();
    await alert.getByText("is required").waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    expect(new URL(page.url()).pathname).toBe("/workflows/checkout");

    await form.getByLabel("orderId").fill("F-100");
    await form.getByLabel("currency").selectOption("EUR");
    await form.getByLabel("express").check();
    await form.getByRole("button", { name: "Add notes item" }).click();
    await form.getByLabel("notes item 1", { exact: true }).fill("gift wrap");
    await form.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/runs\//);
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.locator('button[data-step="ship"]').waitFor();
    const runId = decodeURIComponent(new URL(page.url()).pathname.slice("/runs/".length));
    const run = await h.api<{ input: unknown }>(`/api/v1/runs/${runId}`);
    expect(run.input).toEqual({
      orderId: "F-100",
      quantity: 1,
      express: true,
      currency: "EUR",
      notes: ["gift wrap"],
    });
    h.assertNoConsoleErrors();
    await page.close();
  });
});

describe("events and workers", () => {
  it("lists an event with the run it woke, and the live worker", async () => {
    await h.api("/api/v1/runs", {
      method: "POST",
      body: { workflow: "approval", id: "ev-1", input: { id: "ev-1" } },
    });
    const page = await h.newPage();
    await page.goto("/runs/ev-1");
    await page.locator('h1 [data-status="waiting"]').waitFor();
    await h.api("/api/v1/events", {
      method: "POST",
      body: { name: "approval.granted", data: { id: "ev-1" } },
    });
    await page.locator('h1 [data-status="completed"]').waitFor();
    await page.getByRole("region", { name: "Events and signals received" }).waitFor();

    await page.goto("/events");
    const row = page.locator("tr", { hasText: "approval.granted" });
    await row.getByRole("link", { name: "ev-1" }).waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");

    await page.goto("/workers");
    await page.getByRole("table", { name: "Workers" }).getByText("default").first().waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");
    h.assertNoConsoleErrors();
    await page.close();
  });
});
