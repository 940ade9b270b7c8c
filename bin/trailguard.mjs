#!/usr/bin/env node
// The `trailguard` command: runs services/cli/main.ts, built ahead with esbuild (bin/cli-build.mjs) or through tsx.
//
// It needs Node >= 22 (package.json "engines"). `npx trailguard` and npm scripts put node_modules/.bin first on
// PATH, so `env node` finds the project's own Node (the `node` devDependency). Started any other way by an
// older Node (e.g. a system Node 20), it re-runs itself with the project's Node when that is installed, and
// otherwise stops with one clear line.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIN_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);

if (major < MIN_MAJOR) {
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!process.env.TRAILGUARD_REEXEC && existsSync(projectNode)) {
    const child = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, TRAILGUARD_REEXEC: '1' },
    });
    if (child.error) {
      process.stderr.write(`trailguard: cannot start ${projectNode}: ${child.error.message}\n`);
      process.exit(2);
    }
    process.exit(child.status ?? 1);
  }
  process.stderr.write(
    `trailguard: needs Node.js >= ${MIN_MAJOR}, but this is ${process.version}; run it with npx trailguard ` +
      `(after npm ci, it uses the project's Node) or install Node ${MIN_MAJOR} or later\n`,
  );
  process.exit(2);
}

// The CLI built ahead (bin/cli-build.mjs: rebuilt whenever a file it was built from changed), or, when it cannot
// be built (esbuild missing, node_modules read-only) or TRAILGUARD_TSX=1, the sources through tsx.
const debug = Boolean(process.env.TRAILGUARD_DEBUG);
let main;
if (!process.env.TRAILGUARD_TSX) {
  try {
    const { builtCli, cliBuildDir } = await import('./cli-build.mjs');
    const entry = await builtCli();
    // V8's code cache for the modules loaded below (keyed by their contents: never stale; best effort).
    module.enableCompileCache?.(join(cliBuildDir(), '..', 'v8'));
    if (debug) process.setSourceMapsEnabled(true);
    ({ main } = await import(pathToFileURL(entry).href));
  } catch (error) {
    if (debug)
      process.stderr.write(`trailguard: running the sources through tsx: ${error?.stack ?? error}\n`);
  }
}
if (!main) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../services/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
