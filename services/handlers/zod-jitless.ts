/**
 * Imported first by every step handler: zod's schemas are built without its JIT parser. zod compiles a fast
 * parser per object schema on its first parse, which pays off only over many parses; a step parses its input and
 * output once per invocation, and on a cold start the compile costs about 10 ms of CPU per parse of the run
 * context (bench/cold-start.ts measures it). zod reads the setting when a schema is built, hence first.
 */
import * as z from '../../policies/zod.js';

z.config({ jitless: true });
