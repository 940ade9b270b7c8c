/**
 * Building the CLI ahead (bin/cli-build.mjs): the build is reused only while every file it read is unchanged,
 * each module keeps its own import.meta.url, and concurrent builds leave one whole build. A small project in a
 * temporary folder stands in for the repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCli, builtCli, CliBuildError, cliBuildDir, freshBuild } from '../../../bin/cli-build.mjs';

const ENTRY = 'src/main.ts';
let root: string;
let dir: string;

async function put(file: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true });
  await writeFile(join(root, file), content);
}

/** Runs a built entry; it prints one JSON line. */
function run(entry: string): unknown {
  const out = spawnSync(process.execPath, [entry], { encoding: 'utf8' });
  expect(out.stderr).toBe('');
  return JSON.parse(out.stdout);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'trailguard-cli-build-'));
  dir = join(root, 'node_modules', '.cache', 'trailguard', 'cli');
  await put('package.json', '{"type": "module"}\n');
  await put('tsconfig.json', '{"compilerOptions": {"strict": true}}\n');
  await put(
    ENTRY,
    [
      "import { here, value } from './lib/value.js';",
      "const text: string = 'createRequire(import.meta.url)';",
      'console.log(JSON.stringify({ value, here, main: import.meta.url, text }));',
      '',
    ].join('\n'),
  );
  await put('src/lib/value.ts', 'export const value: number = 1;\nexport const here = import.meta.url;\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('builtCli', () => {
  it('bundles the entry; every module keeps its own import.meta.url; strings are left alone', async () => {
    const entry = await builtCli(root, dir, ENTRY);
    expect(entry.startsWith(dir)).toBe(true);
    expect(run(entry)).toEqual({
      value: 1,
      here: pathToFileURL(join(root, 'src/lib/value.ts')).href,
      main: pathToFileURL(join(root, ENTRY)).href,
      text: 'createRequire(import.meta.url)',
    });
  });

  it('reuses the build while nothing it read changed', async () => {
    const entry = await builtCli(root, dir, ENTRY);
    expect(freshBuild(root, dir, ENTRY)).toBe(entry);
    expect(await builtCli(root, dir, ENTRY)).toBe(entry);
  });

  it('rebuilds when an imported file changes, and runs the new code', async () => {
    const first = await builtCli(root, dir, ENTRY);
    await put('src/lib/value.ts', 'export const value: number = 2;\nexport const here = import.meta.url;\n');
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
    const second = await builtCli(root, dir, ENTRY);
    expect(second).not.toBe(first);
    expect(run(second)).toMatchObject({ value: 2 });
  });

  it('rebuilds when a new file joins the graph (the importing file changes)', async () => {
    await builtCli(root, dir, ENTRY);
    await put('src/lib/extra.ts', 'export const extra = 3;\n');
    expect(freshBuild(root, dir, ENTRY)).toBeDefined(); // not imported yet: not part of the build
    await put(ENTRY, "import { extra } from './lib/extra.js';\nconsole.log(JSON.stringify({ extra }));\n");
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
    expect(run(await builtCli(root, dir, ENTRY))).toEqual({ extra: 3 });
  });

  it('rebuilds when tsconfig.json or package.json changes, or an input is deleted', async () => {
    await builtCli(root, dir, ENTRY);
    await put('tsconfig.json', '{"compilerOptions": {"strict": false}}\n');
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
    await builtCli(root, dir, ENTRY);
    await put('package.json', '{"type": "module", "name": "x"}\n');
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
    await builtCli(root, dir, ENTRY);
    await rm(join(root, 'src/lib/value.ts'));
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
  });

  it('does not use a build whose index is unreadable or names a missing build', async () => {
    const entry = await builtCli(root, dir, ENTRY);
    await writeFile(join(dir, 'latest.json'), '{"format": 1, "entr');
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
    await builtCli(root, dir, ENTRY);
    await rm(dirname(entry), { recursive: true });
    expect(freshBuild(root, dir, ENTRY)).toBeUndefined();
    expect(existsSync(await builtCli(root, dir, ENTRY))).toBe(true);
  });

  it('fails with CliBuildError when the sources do not compile, leaving no temporary folder', async () => {
    await put('src/lib/value.ts', 'export const value: number = ;\n');
    const error = await buildCli(root, dir, ENTRY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliBuildError);
    expect((error as Error).cause).toBeDefined();
    expect(readdirSync(dir).filter((name) => name.startsWith('tmp-'))).toEqual([]);
  });

  it('concurrent builds of the same sources leave one whole build', async () => {
    const entries = await Promise.all([1, 2, 3, 4].map(() => buildCli(root, dir, ENTRY)));
    expect(new Set(entries).size).toBe(1);
    expect(run(entries[0] as string)).toMatchObject({ value: 1 });
    expect(readdirSync(dir).filter((name) => name.startsWith('tmp-') || name.includes('.json.'))).toEqual([]);
    expect(freshBuild(root, dir, ENTRY)).toBe(entries[0]);
  });

  it('builds under the repository, where the packages the build leaves external resolve', () => {
    expect(cliBuildDir('/repo')).toBe(join('/repo', 'node_modules', '.cache', 'trailguard', 'cli'));
  });
});
