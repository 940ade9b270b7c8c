// Builds the `trailguard` command ahead of time, so that a process does not transpile and resolve every
// TypeScript module through tsx on each start (about a third of a short command's CPU time).
//
// The CLI's own code (services/, policies/, infra/: every file the entry imports) is bundled with esbuild into
// node_modules/.cache/trailguard/cli/<hash>/, packages left external (they load from node_modules as before, so
// the build must live under the repository's node_modules). `import.meta.url` keeps each source file's own URL,
// so paths computed from it (the repository root, package.json, fixtures) are the same as under tsx.
//
// Freshness: latest.json lists every file the last build read, with the SHA-256 of the contents it bundled. A
// start hashes those files again; any difference (or a missing file) means a new build, and since a new import
// changes the importing file, a file added to the graph is always noticed. Builds go to a temporary folder that
// is renamed into place, and latest.json is replaced atomically, so concurrent starts never see half a build.
// Plain JavaScript: it runs before anything can load TypeScript.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Bumped when the build options or the layout change: older builds are not used. */
export const CLI_BUILD_FORMAT = 1;
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_ENTRY = 'services/cli/main.ts';
/** Files that change how every module is compiled, though no module imports them. */
const COMPILE_SETTINGS = ['package.json', 'tsconfig.json'];
/** Builds kept besides the current one (a process still running an older build may load its chunks). */
const KEEP_BUILDS = 3;
const STALE_MS = 60 * 60 * 1000;
const LOADERS = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.json': 'json',
};
/** The identifier each module's `import.meta.url` becomes (declared per module; esbuild renames per module). */
const META_URL = '__trailguard_import_meta_url';

export class CliBuildError extends Error {
  name = 'CliBuildError';
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const posix = (root, file) => relative(root, file).split(sep).join('/');

export function cliBuildDir(root = REPO_ROOT) {
  return join(root, 'node_modules', '.cache', 'trailguard', 'cli');
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // no index yet, or an unreadable one: build
  }
}

function hashOf(file) {
  try {
    return sha256(readFileSync(file));
  } catch {
    return 'missing';
  }
}

/** The built entry of the last build when every file it read is unchanged; otherwise undefined. */
export function freshBuild(root = REPO_ROOT, dir = cliBuildDir(root), entry = CLI_ENTRY) {
  const index = readJson(join(dir, 'latest.json'));
  if (
    !index ||
    index.format !== CLI_BUILD_FORMAT ||
    index.entry !== entry ||
    typeof index.inputs !== 'object'
  ) {
    return undefined;
  }
  const main = join(dir, String(index.dir), String(index.main));
  if (!existsSync(main)) return undefined;
  for (const [file, hash] of Object.entries(index.inputs)) {
    if (hashOf(join(root, file)) !== hash) return undefined;
  }
  return main;
}

/** Loads every file of the repository itself: records what was read, keeps import.meta.url per file. */
function sourcePlugin(root, inputs) {
  return {
    name: 'trailguard-sources',
    setup(build) {
      build.onLoad({ filter: /.*/ }, (args) => {
        const loader = LOADERS[extname(args.path)];
        if (args.namespace !== 'file' || !loader) return undefined;
        const contents = readFileSync(args.path);
        inputs[posix(root, args.path)] = sha256(contents);
        if (loader === 'json') return { contents, loader };
        // On the first line, so that line numbers (stack traces, source maps) stay those of the source.
        const meta = `const ${META_URL} = ${JSON.stringify(pathToFileURL(args.path).href)};`;
        return { contents: meta + contents.toString('utf8'), loader };
      });
    },
  };
}

function prune(dir, keep, now = Date.now()) {
  const builds = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat?.isDirectory() || name === keep) continue;
    if (name.startsWith('tmp-')) {
      if (now - stat.mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    } else {
      builds.push({ path, mtime: stat.mtimeMs });
    }
  }
  builds.sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(KEEP_BUILDS)) {
    if (now - old.mtime > STALE_MS) rmSync(old.path, { recursive: true, force: true });
  }
}

/** Bytes in a folder, recursively. */
function sizeOf(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return stat?.size ?? 0;
  return readdirSync(path).reduce((total, name) => total + sizeOf(join(path, name)), 0);
}

/**
 * V8's code cache (bin/trailguard.mjs enables it next to the builds) keeps entries for every build's files: it
 * is cleared when it outgrows V8_CACHE_LIMIT (it is only a cache; the next start fills it again).
 */
const V8_CACHE_LIMIT = 64 * 1024 * 1024;
function capV8Cache(dir) {
  const v8 = join(dir, '..', 'v8');
  if (sizeOf(v8) > V8_CACHE_LIMIT) rmSync(v8, { recursive: true, force: true });
}

/** Bundles the entry (packages external) and makes it the latest build. Returns the built entry. */
export async function buildCli(root = REPO_ROOT, dir = cliBuildDir(root), entry = CLI_ENTRY) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (error) {
    throw new CliBuildError('esbuild is not installed', { cause: error });
  }
  const inputs = {};
  const temp = join(dir, `tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const major = process.versions.node.split('.')[0];
  try {
    mkdirSync(temp, { recursive: true });
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: [join(root, entry)],
      outdir: temp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: `node${major}`,
      packages: 'external',
      sourcemap: 'linked',
      tsconfig: join(root, 'tsconfig.json'),
      define: { 'import.meta.url': META_URL },
      plugins: [sourcePlugin(root, inputs)],
      logLevel: 'silent',
    });
    for (const file of COMPILE_SETTINGS) inputs[file] = hashOf(join(root, file));
    const sorted = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1)));
    const key = { CLI_BUILD_FORMAT, esbuild: esbuild.version, major, entry, inputs: sorted };
    const name = sha256(JSON.stringify(key)).slice(0, 16);
    const final = join(dir, name);
    if (existsSync(final)) {
      rmSync(temp, { recursive: true, force: true }); // the same build, made by another process
    } else {
      try {
        renameSync(temp, final);
      } catch (error) {
        rmSync(temp, { recursive: true, force: true });
        if (!existsSync(final)) throw error; // otherwise another process renamed the same build first
      }
    }
    const main = `${entry
      .split('/')
      .at(-1)
      .replace(/\.[mc]?tsx?$/, '')}.js`;
    const index = join(dir, `latest.json.${process.pid}-${randomBytes(6).toString('hex')}`);
    writeFileSync(
      index,
      JSON.stringify({ format: CLI_BUILD_FORMAT, entry, dir: name, main, inputs: sorted }),
    );
    renameSync(index, join(dir, 'latest.json'));
    prune(dir, name);
    capV8Cache(dir);
    return join(final, main);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw new CliBuildError(`cannot build ${entry}: ${error?.message ?? error}`, { cause: error });
  }
}

/** The built CLI entry: the last build when it is fresh, else a new build. */
export async function builtCli(root = REPO_ROOT, dir = cliBuildDir(root), entry = CLI_ENTRY) {
  return freshBuild(root, dir, entry) ?? (await buildCli(root, dir, entry));
}
