import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: false, strict: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);

/** What a flow's `input` JSON Schema says about a value, defaults applied. */
export type InputCheck = { ok: true; value: unknown } | { ok: false; errors: string[] };

/**
 * Compiles a flow's input JSON Schema (ajv, draft 2020-12 subset; defaults are filled in).
 * @throws Error naming what ajv could not compile.
 */
export function compileInputSchema(
  schema: Record<string, unknown>,
): (value: unknown) => InputCheck {
  let validate: ValidateFunction;
  try {
    const { $schema: _ignored, ...rest } = schema;
    validate = ajv.compile(rest);
  } catch (error) {
    throw new Error(`not a valid JSON Schema: ${(error as Error).message}`);
  }
  return (value) => {
    const copy = value === undefined ? {} : structuredClone(value);
    if (validate(copy)) return { ok: true, value: copy };
    return {
      ok: false,
      errors: (validate.errors ?? []).map(
        (e) => `input${e.instancePath.replaceAll("/", ".")}: ${e.message ?? "is invalid"}`,
      ),
    };
  };
}
