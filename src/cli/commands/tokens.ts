import type { Command } from "commander";
import type { TokenRole } from "../../server/token-store.ts";
import { addConfigOptions } from "../config-keys.ts";
import { withTokens } from "../engine.ts";
import { UsageError } from "../errors.ts";
import { formatTable, formatTime, note, print, printJson } from "../output.ts";
import { resolveConfig } from "../resolve-config.ts";

const roles: readonly TokenRole[] = ["admin", "operator", "viewer"];

/** `cairn tokens create|list|revoke`: API tokens, kept (hashed) in the database. */
export function registerTokensCommands(program: Command): void {
  const tokens = program.command("tokens").description("manage API tokens");

  const create = tokens
    .command("create")
    .description("create a token; its secret is printed once and never stored")
    .requiredOption("--name <name>", "what the token is for")
    .requiredOption("--role <role>", `${roles.join(", ")}`)
    .option("--expires <duration>", 'lifetime, e.g. "30d" or "12h" (default: never expires)')
    .option("--json", "print JSON");
  addConfigOptions(create, ["db"]).action(async (opts) => {
    if (!roles.includes(opts.role)) {
      throw new UsageError(`--role must be one of ${roles.join(", ")}, got "${opts.role}".`);
    }
    if (String(opts.name).trim() === "") throw new UsageError("--name must not be empty.");
    const expires = opts.expires as string | undefined;
    if (expires !== undefined && !/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*$/.test(expires)) {
      throw new UsageError(
        `--expires must be a duration like "30d", "12h" or "90m", got "${expires}".`,
      );
    }
    const { values } = await resolveConfig(create);
    const { createToken } = await import("../../server/tokens.ts");
    const token = await withTokens(values, (apiTokens, clock) =>
      createToken(apiTokens, clock, {
        name: opts.name,
        role: opts.role,
        ...(expires === undefined ? {} : { expiresIn: expires as `${number}d` }),
      }),
    );
    if (opts.json) return printJson(token);
    print(token.secret);
    note(
      `Token ${token.id} (${opts.role}) created${token.expiresAt ? `, expires ${token.expiresAt.toISOString()}` : ""}. The secret above is shown only once: store it now.`,
    );
  });

  const list = tokens
    .command("list")
    .description("list tokens (never their secrets)")
    .option("--json", "print JSON");
  addConfigOptions(list, ["db"]).action(async (opts) => {
    const { values } = await resolveConfig(list);
    const all = await withTokens(
      values,
      async (apiTokens) => (await import("../../server/tokens.ts")).listTokens(apiTokens),
      { readOnly: true },
    );
    if (opts.json) return printJson(all);
    if (all.length === 0) return print("No tokens.");
    print(
      formatTable(
        ["ID", "NAME", "ROLE", "CREATED", "LAST USED", "EXPIRES", "REVOKED"],
        all.map((t) => [
          t.id,
          t.name,
          t.role,
          formatTime(t.createdAt),
          formatTime(t.lastUsedAt),
          formatTime(t.expiresAt),
          formatTime(t.revokedAt),
        ]),
      ),
    );
  });

  const revoke = tokens
    .command("revoke")
    .description("revoke a token")
    .argument("<id>", "token id (or name, when only one active token has it)")
    .option("--json", "print JSON");
  addConfigOptions(revoke, ["db"]).action(async (id: string, opts) => {
    const { values } = await resolveConfig(revoke);
    const revoked = await withTokens(
      values,
      async (apiTokens, clock) =>
        (await import("../../server/tokens.ts")).revokeToken(apiTokens, clock, id),
      { readOnly: true },
    );
    if (!revoked) throw new UsageError(`No active token with id "${id}".`);
    if (opts.json) return printJson({ id, revoked });
    print(`Token ${id} revoked.`);
  });
}
