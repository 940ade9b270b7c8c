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
