/**
 * The on-disk synthesis cache: a hit never synthesizes; a different configuration or a changed, added or
 * removed source file is a miss; an unusable entry is ignored and rewritten; concurrent writers leave a whole
 * entry. Everything runs in temporary folders with an injected file list: no real sources are touched.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CACHE_FORMAT,
  type CachedSynthesisRequest,
  cachedSynthesis,
  cacheKey,
  defaultCacheDir,
  entryFile,
  importClosure,
  REPO_ROOT,
  SynthCacheError,
  templateFingerprint,
  templateSourceFiles,
  validationRecord,
  writeEntry,
} from '../../../services/local/synth-cache.js';

interface Value {
  template: { Resources: Record<string, unknown> };
  stackName: string;
}

let root: string;
let dir: string;
let files: string[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'trailguard-synth-cache-'));
  dir = join(root, 'cache');
  await mkdir(join(root, 'infra'), { recursive: true });
  files = [join(root, 'infra', 'app.ts'), join(root, 'package-lock.json')];
  await writeFile(files[0] as string, 'export const app = 1;\n');
  await writeFile(files[1] as string, '{"lockfileVersion": 3}\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const isValue = (value: unknown): Value => {
  const v = value as Partial<Value> | null;
  if (!v || typeof v.stackName !== 'string' || typeof v.template?.Resources !== 'object') {
    throw new Error('not a value');
  }
  return v as Value;
};

/** A request whose synthesis is counted and returns a value naming the configuration. */
function request(config: Record<string, unknown>, counter: { n: number }): CachedSynthesisRequest<Value> {
  return {
    key: { config },
    produce: async () => {
      counter.n++;
      return {
        template: { Resources: { Fn: { Type: 'AWS::Lambda::Function' } } },
        stackName: JSON.stringify(config),
      };
    },
    validate: isValue,
  };
}

const options = () => ({ dir, files, root, env: {} });

describe('cachedSynthesis', () => {
  it('synthesizes on the first call and reads the entry afterwards (hit: no synthesis)', async () => {
    const counter = { n: 0 };
    const first = await cachedSynthesis(request({ mode: 'remediate' }, counter), options());
    expect(first.status).toBe('miss');
    expect(existsSync(first.file)).toBe(true);
    const second = await cachedSynthesis(request({ mode: 'remediate' }, counter), options());
    expect(second.status).toBe('hit');
    expect(second.file).toBe(first.file);
    expect(second.value).toEqual(first.value);
    expect(counter.n).toBe(1);
  });

  it('misses when the configuration changes, and keeps the entry of each configuration', async () => {
    const counter = { n: 0 };
    await cachedSynthesis(request({ mode: 'remediate' }, counter), options());
    const other = await cachedSynthesis(request({ mode: 'notify-only' }, counter), options());
    expect(other.status).toBe('miss');
    expect(other.value.stackName).toBe('{"mode":"notify-only"}');
    expect(counter.n).toBe(2);
    expect((await cachedSynthesis(request({ mode: 'remediate' }, counter), options())).status).toBe('hit');
    expect((await cachedSynthesis(request({ mode: 'notify-only' }, counter), options())).status).toBe('hit');
    expect(counter.n).toBe(2);
  });

  it("misses when a hashed file's content changes, and hits again when it is back", async () => {
    const counter = { n: 0 };
    const original = await cachedSynthesis(request({}, counter), options());
    await writeFile(files[0] as string, 'export const app = 2;\n');
    const changed = await cachedSynthesis(request({}, counter), options());
    expect(changed.status).toBe('miss');
    expect(changed.file).not.toBe(original.file);
    expect(counter.n).toBe(2);
    await writeFile(files[0] as string, 'export const app = 1;\n');
    expect((await cachedSynthesis(request({}, counter), options())).status).toBe('hit');
    expect(counter.n).toBe(2);
  });

  it('misses when a hashed file is removed or a new one joins the list', async () => {
    const counter = { n: 0 };
    await cachedSynthesis(request({}, counter), options());
    await rm(files[1] as string);
    expect((await cachedSynthesis(request({}, counter), options())).status).toBe('miss');
    const added = join(root, 'infra', 'extra.ts');
    await writeFile(added, 'export {};\n');
    expect(
      (await cachedSynthesis(request({}, counter), { ...options(), files: [...files, added] })).status,
    ).toBe('miss');
    expect(counter.n).toBe(3);
  });

  it('misses when the CDK context in the environment changes', async () => {
    const counter = { n: 0 };
    await cachedSynthesis(request({}, counter), options());
    const withContext = { ...options(), env: { CDK_CONTEXT_JSON: '{"x":1}' } };
    expect((await cachedSynthesis(request({}, counter), withContext)).status).toBe('miss');
    expect(counter.n).toBe(2);
  });

  it.each([
    ['not JSON', '{"format": 1, "key": "trunc'],
    ['empty', ''],
    ['JSON null', 'null'],
    ['another format', (key: string) => JSON.stringify({ format: CACHE_FORMAT + 1, key, value: {} })],
    ['another key', () => JSON.stringify({ format: CACHE_FORMAT, key: 'other', value: {} })],
    [
      'an invalid value',
      (key: string) => JSON.stringify({ format: CACHE_FORMAT, key, value: { template: 1 } }),
    ],
  ])('ignores an entry that is %s, synthesizes and rewrites it', async (_, content) => {
    const counter = { n: 0 };
    const first = await cachedSynthesis(request({}, counter), options());
    const key = cacheKey({ config: {} }, options());
    await writeFile(first.file, typeof content === 'string' ? content : content(key));

    const again = await cachedSynthesis(request({}, counter), options());
    expect(again.status).toBe('invalid');
    expect(again.invalid).toBeInstanceOf(SynthCacheError);
    expect(again.value).toEqual(first.value);
    expect(counter.n).toBe(2);
    expect(JSON.parse(await readFile(first.file, 'utf8'))).toEqual({
      format: CACHE_FORMAT,
      key,
      value: first.value,
    });
    expect((await cachedSynthesis(request({}, counter), options())).status).toBe('hit');
    expect(counter.n).toBe(2);
  });

  it('propagates a failed synthesis and writes nothing', async () => {
    const failing: CachedSynthesisRequest<Value> = {
      key: {},
      produce: () => Promise.reject(new Error('synth failed')),
      validate: isValue,
    };
    await expect(cachedSynthesis(failing, options())).rejects.toThrow('synth failed');
    expect(existsSync(dir)).toBe(false);
  });

  it('returns the synthesized value when the entry cannot be written (the cache only saves time)', async () => {
    await writeFile(join(root, 'not-a-folder'), '');
    const counter = { n: 0 };
    const result = await cachedSynthesis(request({}, counter), {
      ...options(),
      dir: join(root, 'not-a-folder'),
    });
    expect(result.status).toBe('miss');
    expect(result.writeError).toBeInstanceOf(SynthCacheError);
    expect(result.writeError?.cause).toBeDefined();
    expect(result.value.stackName).toBe('{}');
  });

  it('leaves no temporary files behind', async () => {
    const counter = { n: 0 };
    await cachedSynthesis(request({ a: 1 }, counter), options());
    await cachedSynthesis(request({ a: 2 }, counter), options());
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});

describe('concurrent writers', () => {
  it('never leave a torn entry: every read sees one whole value', async () => {
    const key = 'concurrent';
    const file = entryFile(dir, 'synth', key);
    // Large values (~2 MB each), different per writer, so that a torn or interleaved write could not parse.
    const writer = (id: number) => `
      import { writeEntry } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'services/local/synth-cache.ts')).href)};
      const value = { writer: ${id}, padding: ${JSON.stringify(String(id))}.repeat(2_000_000) };
      for (let i = 0; i < 15; i++) writeEntry(${JSON.stringify(dir)}, 'synth', ${JSON.stringify(key)}, value);
    `;
    const run = (id: number) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer(id)], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('error', reject);
        child.on('exit', resolve);
      });

    const writers = [1, 2, 3, 4].map(run);
    let done = false;
    const all = Promise.all(writers).finally(() => {
      done = true;
    });
    const seen = new Set<number>();
    let reads = 0;
    while (!done) {
      if (existsSync(file)) {
        const entry = JSON.parse(await readFile(file, 'utf8')) as {
          key: string;
          value: { writer: number; padding: string };
        };
        expect(entry.key).toBe(key);
        expect(entry.value.padding).toBe(String(entry.value.writer).repeat(2_000_000));
        seen.add(entry.value.writer);
        reads++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await all).toEqual([0, 0, 0, 0]);
    expect(reads).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(0);
    const final = JSON.parse(await readFile(file, 'utf8')) as { value: { writer: number; padding: string } };
    expect(final.value.padding).toBe(String(final.value.writer).repeat(2_000_000));
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writeEntry replaces an existing entry whole', async () => {
    writeEntry(dir, 'synth', 'k', { v: 1 });
    writeEntry(dir, 'synth', 'k', { v: 2 });
    expect(JSON.parse(await readFile(entryFile(dir, 'synth', 'k'), 'utf8'))).toEqual({
      format: CACHE_FORMAT,
      key: 'k',
      value: { v: 2 },
    });
  });
});

describe('validationRecord', () => {
  const subject = { definition: { StartAt: 'A', States: { A: { Type: 'Succeed' } } }, validationOptions: {} };

  it('is unknown until recorded, then known for the same subject only', () => {
    const first = validationRecord(subject, options());
    expect(first.known).toBe(false);
    expect(first.record()).toBeUndefined();
    expect(validationRecord(subject, options()).known).toBe(true);
    expect(validationRecord({ ...subject, validationOptions: { checkArn: true } }, options()).known).toBe(
      false,
    );
  });

  it('is unknown again when the installed packages change', async () => {
    validationRecord(subject, options()).record();
    await writeFile(files[1] as string, '{"lockfileVersion": 3, "packages": {}}\n');
    expect(validationRecord(subject, options()).known).toBe(false);
  });

  it('treats an unreadable record as unknown', async () => {
    validationRecord(subject, options()).record();
    for (const name of readdirSync(dir)) await writeFile(join(dir, name), 'garbage');
    expect(validationRecord(subject, options()).known).toBe(false);
  });
});

describe('what the key covers', () => {
  it('follows relative imports transitively, .js specifiers naming .ts files', async () => {
    await mkdir(join(root, 'services', 'domain'), { recursive: true });
    await writeFile(
      join(root, 'infra', 'app.ts'),
      "import { a } from './a.js';\nimport type { T } from '../services/domain/t.js';\nexport const x = a;\n",
    );
    await writeFile(join(root, 'infra', 'a.ts'), "export { b as a } from '../services/domain/b.js';\n");
    await writeFile(join(root, 'services', 'domain', 'b.ts'), "import 'node:fs';\nexport const b = 1;\n");
    await writeFile(join(root, 'services', 'domain', 't.ts'), 'export type T = 1;\n');
    expect(importClosure(join(root, 'infra', 'app.ts')).sort()).toEqual(
      [
        join(root, 'infra', 'app.ts'),
        join(root, 'infra', 'a.ts'),
        join(root, 'services', 'domain', 'b.ts'),
        join(root, 'services', 'domain', 't.ts'),
      ].sort(),
    );
    const before = templateFingerprint(templateSourceFiles(root), root);
    await writeFile(join(root, 'services', 'domain', 'b.ts'), 'export const b = 2;\n');
    expect(templateFingerprint(templateSourceFiles(root), root)).not.toBe(before);
  });

  it('by default covers infra/, policies/, services/handlers/, the lock file and what infra/app.ts imports', () => {
    const listed = templateSourceFiles().map((f) => f.slice(REPO_ROOT.length + 1));
    expect(listed).toContain('infra/app.ts');
    expect(listed).toContain('infra/stacks/trailguard-stack.ts');
    expect(listed).toContain('policies/config.ts');
    expect(listed).toContain('services/handlers/sweep.ts');
    expect(listed).toContain('package-lock.json');
    // Imported by the constructs (outcome names for the dashboard, the dependency events of the rule).
    expect(listed).toContain('services/domain/run-context.ts');
    expect(listed).toContain('services/domain/events.ts');
  });

  it('lives in $TRAILGUARD_CACHE_DIR, else node_modules/.cache/trailguard under the repository', () => {
    expect(defaultCacheDir({ TRAILGUARD_CACHE_DIR: dir })).toBe(dir);
    expect(defaultCacheDir({})).toBe(join(REPO_ROOT, 'node_modules', '.cache', 'trailguard'));
  });
});
