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
