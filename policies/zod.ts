/**
 * zod as every trailguard schema uses it: `zod/mini`, the functional build, which a bundler tree-shakes to what
 * the schemas use (a step's bundle carries about 30 KB of zod instead of about 95 KB; docs/architecture.md
 * "Cold starts"). Unlike `zod`, `zod/mini` loads no error messages of its own, so the English ones are set here:
 * the same messages `zod` gives ("Unrecognized key: ...", "Too small: ..."). Import `z` from this module, never
 * from 'zod/mini' directly, so no schema parses without them.
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// The English locale alone (`z.locales.en` would bundle every locale zod has).
z.config(en());

export * from 'zod/mini';

/*
 * The plainest schemas, built once and shared. A zod schema is immutable (`.check()`, `z.extend`, `z.partial`
 * build new ones), so every field that is just a string, a boolean, or an optional of one same schema can use one
 * instance. Building zod schemas is most of a step's own init CPU: RestoreRole's bundle built 460 schemas at init,
 * 144 of them plain strings and 108 optionals; shared, 252, about 7 ms less CPU per cold start (measured after the
 * step's floor in the same process, median of 25; docs/architecture.md "Cold starts"). These local exports take the
 * place of zod/mini's own `string`, `boolean` and `optional` in `z`.
 */
const plainString = z.string();
const plainBoolean = z.boolean();
const optionals = new WeakMap<object, unknown>();

/** `z.string()`: without params, the one shared plain string schema. */
export function string(params?: string | z.core.$ZodStringParams): z.ZodMiniString<string> {
  return params === undefined ? plainString : z.string(params);
}

/** `z.boolean()`: without params, the one shared boolean schema. */
export function boolean(params?: string | z.core.$ZodBooleanParams): z.ZodMiniBoolean<boolean> {
  return params === undefined ? plainBoolean : z.boolean(params);
}

/** `z.optional(schema)`: one optional per schema instance, shared by every field that makes it optional. */
export function optional<T extends z.core.SomeType>(innerType: T): z.ZodMiniOptional<T> {
  let made = optionals.get(innerType) as z.ZodMiniOptional<T> | undefined;
  if (!made) {
    made = z.optional(innerType);
    optionals.set(innerType, made);
  }
  return made;
}

/**
 * A schema built on its first use instead of when its module is imported. Every schema a step's bundle holds is
 * built at the function's init, whether the step parses it or not, and building zod schemas is most of a step's own
 * init CPU (docs/architecture.md "Cold starts"): a schema that only some steps parse (a CloudTrail event, a Security
 * Hub finding, the sweep's environment) is built by those steps alone.
 */
export function lazily<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}
