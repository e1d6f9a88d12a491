import { randomBytes } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { apiRoute } from "../api-route.ts";
import { docsPage } from "../docs-page.ts";

export const openapiDocument = apiRoute({
  policy: "public",
  route: createRoute({
    method: "get",
    path: "/api/openapi.json",
    tags: ["docs"],
    summary: "This API as an OpenAPI 3.1 document",
    responses: {
      200: {
        description: "The OpenAPI document",
        content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
      },
    },
  }),
  handler:
    ({ openapi }) =>
    async (c) =>
      c.json(openapi() as Record<string, unknown>, 200),
});

export const docs = apiRoute({
  policy: "public",
  route: createRoute({
    method: "get",
    path: "/api/docs",
    tags: ["docs"],
    summary: "A page rendering the OpenAPI document",
    responses: { 200: { description: "HTML", content: { "text/html": { schema: z.string() } } } },
  }),
  handler: () => async (c) => {
    const nonce = randomBytes(16).toString("base64");
    return c.html(docsPage(nonce), 200, {
      "Content-Security-Policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    });
  },
});
