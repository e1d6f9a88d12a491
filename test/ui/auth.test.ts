import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeViolations,
  seriousA11yViolations,
  startUi,
  type UiHarness,
} from "./support/ui-harness.ts";

let h: UiHarness;
beforeAll(async () => {
  h = await startUi({ token: true });
});
afterAll(async () => {
  await h?.close();
});

describe("sign-in with auth on", () => {
  it("sends a visitor without a token to sign-in, refuses a wrong token, accepts the right one", async () => {
    const page = await h.newPage();
    await page.goto("/runs?status=failed");
    await page.waitForURL(/\/sign-in\?next=%2Fruns%3Fstatus%3Dfailed/);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(describeViolations(await seriousA11yViolations(page))).toBe("");

    await page.getByLabel("API token").fill(`cairn_${"x".repeat(43)}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("That token was refused").waitFor();

    await page.getByLabel("API token").fill(h.token ?? "");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/runs\?status=failed$/);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    await page.getByText("No runs match these filters.").waitFor();
    // The token lives in this tab's session storage, never in the URL.
    expect(page.url()).not.toContain("cairn_");
    h.assertNoConsoleErrors();
    await page.close();
  });

  it("returns to sign-in when the stored token stops working", async () => {
    const page = await h.newPage();
    await page.goto("/sign-in");
    await page.getByLabel("API token").fill(h.token ?? "");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    // A revoked or expired token looks the same to the UI: the server answers 401.
    await page.evaluate(
      (bad) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem("cairn.token", bad),
      `cairn_${"y".repeat(43)}`,
    );
    await page.getByRole("link", { name: "Workflows", exact: true }).click();
    await page.waitForURL(/\/sign-in/);
    await page.getByText("The bearer token is unknown or revoked.").waitFor();
    await page.close();
  });
});
