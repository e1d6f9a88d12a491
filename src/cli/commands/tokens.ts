import type { Command } from "commander";
import { createToken, listTokens, revokeToken } from "../../server/tokens.ts";
import type { TokenRole } from "../../store/store.ts";
import { addConfigOptions } from "../config-keys.ts";
import { withEngine } from "../engine.ts";
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
    .option("--json", "print JSON");
  addConfigOptions(create, ["db"]).action(async (opts) => {
    if (!roles.includes(opts.role)) {
      throw new UsageError(`--role must be one of ${roles.join(", ")}, got "${opts.role}".`);
    }
    if (String(opts.name).trim() === "") throw new UsageError("--name must not be empty.");
    const { values } = await resolveConfig(create);
    const token = await withEngine(values, (cairn) =>
      createToken(cairn, { name: opts.name, role: opts.role }),
    );
    if (opts.json) return printJson(token);
    print(token.secret);
    note(
      `Token ${token.id} (${opts.role}) created. The secret above is shown only once: store it now.`,
    );
  });

  const list = tokens
    .command("list")
    .description("list tokens (never their secrets)")
    .option("--json", "print JSON");
  addConfigOptions(list, ["db"]).action(async (opts) => {
    const { values } = await resolveConfig(list);
    const all = await withEngine(values, (cairn) => listTokens(cairn));
    if (opts.json) return printJson(all);
    if (all.length === 0) return print("No tokens.");
    print(
      formatTable(
        ["ID", "NAME", "ROLE", "CREATED", "LAST USED", "REVOKED"],
        all.map((t) => [
          t.id,
          t.name,
          t.role,
          formatTime(t.createdAt),
          formatTime(t.lastUsedAt),
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
    const revoked = await withEngine(values, (cairn) => revokeToken(cairn, id));
    if (!revoked) throw new UsageError(`No active token with id "${id}".`);
    if (opts.json) return printJson({ id, revoked });
    print(`Token ${id} revoked.`);
  });
}
