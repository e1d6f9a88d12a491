import { describe, expect, it } from "vitest";
import { resolveWebhooks } from "../../src/server/resolve-webhooks.ts";

describe("resolveWebhooks", () => {
  it("reads a secret, a rotation list, or a scheme with its secrets and tolerance", () => {
    const hooks = resolveWebhooks({
      a: "s1",
      b: ["s1", "s2"],
      c: { scheme: "standard", secrets: `whsec_${Buffer.alloc(24, 1).toString("base64")}` },
      d: { scheme: "stripe", secrets: ["x"], toleranceSeconds: 60 },
    });
    expect(hooks.get("a")).toEqual({ scheme: "cairn", secrets: ["s1"], toleranceSeconds: 300 });
    expect(hooks.get("b")?.secrets).toEqual(["s1", "s2"]);
    expect(hooks.get("c")?.scheme).toBe("standard");
    expect(hooks.get("d")).toEqual({ scheme: "stripe", secrets: ["x"], toleranceSeconds: 60 });
  });

  it("names the hook and what is wrong with it", () => {
    const bad: [Parameters<typeof resolveWebhooks>[0], RegExp][] = [
      [{ "a b": "s" }, /Webhook name "a b" must be 1-64/],
      [{ h: [] }, /Webhook "h" needs at least one secret/],
      [{ h: { scheme: "gitlab" as "github", secrets: "s" } }, /Webhook "h": scheme must be one of/],
      [
        { h: { scheme: "standard", secrets: "not base64!" } },
        /Webhook "h": a "standard" webhook secret must be base64/,
      ],
      [
        { h: { secrets: "s", toleranceSeconds: 0 } },
        /Webhook "h": toleranceSeconds must be an integer/,
      ],
    ];
    for (const [options, message] of bad) {
      expect(() => resolveWebhooks(options), String(message)).toThrow(message);
    }
  });
});
