/**
 * An on-disk cache of what the local workflow runner synthesizes, so that a CLI process (`trailguard replay`,
 * `trailguard remediate`) whose configuration and code are unchanged loads JSON instead of importing the CDK
 * and synthesizing the app again.
 *
 * An entry is keyed by a SHA-256 of:
 *   - the parsed configuration and the synthesis options (the caller's `key`);
 *   - the contents of every file that shapes the template: everything under infra/, policies/ and
 *     services/handlers/, every file infra/app.ts imports transitively (relative imports, e.g. the
 *     services/domain modules the constructs read constants from), and package-lock.json (the CDK's version);
 *   - the environment variables the CDK's App reads context from (CDK_CONTEXT_JSON, ...).
 * Any change to one of those is a different key: the cache never serves a template older than the code. Entries
 * live in $TRAILGUARD_CACHE_DIR, else node_modules/.cache/trailguard/ under the repository root; each is
 * written to a temporary file and renamed into place, so a reader sees a whole entry or none, whatever other
 * processes write at the same time. An entry that cannot be read, parsed or validated is ignored and rewritten.
 *
 * The same folder records which resolved state machine definitions passed aws-local-stepfunctions' validation
 * (keyed by the definition, the validation options and package-lock.json): validating takes longer than the
 * rest of a replay, and validating the same definition with the same code gives the same answer.
 *
 * Only node: built-ins are imported here: a cache hit must not load the CDK (or anything large).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bumped when the entry format changes: older entries become misses. */
export const CACHE_FORMAT = 1;

/** The repository root (this file is services/local/synth-cache.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Folders whose every file shapes the template. */
export const TEMPLATE_SOURCE_DIRS = ['infra', 'policies', 'services/handlers'] as const;
/** Single files that shape it: the lock file pins aws-cdk-lib and everything else synthesis loads. */
export const TEMPLATE_SOURCE_FILES = ['package-lock.json'] as const;
/** The CDK app's module: whatever it imports (relative imports, transitively) shapes the template too. */
export const TEMPLATE_ENTRY = 'infra/app.ts';
/** What the CDK's App reads from the environment that can change a template. */
export const CDK_ENVIRONMENT = [
  'CDK_CONTEXT_JSON',
  'CONTEXT_OVERFLOW_LOCATION_ENV',
  'CDK_DEFAULT_ACCOUNT',
  'CDK_DEFAULT_REGION',
] as const;
/** How many entries of each kind are kept (most recently used first); older ones are deleted after a write. */
export const MAX_ENTRIES = 32;

const ENTRY_SUFFIX = '.json';
const TEMP_SUFFIX = '.tmp';
/** Temporary files of writers that died are removed after this long. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** A cache entry that exists but cannot be used (unreadable, not JSON, another key or format, invalid). */
export class SynthCacheError extends Error {
  override name = 'SynthCacheError';
}

/** The cache directory: $TRAILGUARD_CACHE_DIR, else node_modules/.cache/trailguard under the repository. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, root = REPO_ROOT): string {
  const dir = env.TRAILGUARD_CACHE_DIR;
  return dir ? resolve(dir) : join(root, 'node_modules', '.cache', 'trailguard');
}

function walk(dir: string, out: Set<string>): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // a folder that does not exist has no files to hash
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) walk(path, out);
    else if (stat?.isFile()) out.add(path);
  }
}

/** Relative module specifiers of a TypeScript/JavaScript file (static and dynamic imports, re-exports). */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** The file a relative specifier names: `./x.js` is `./x.ts` in this repository (tsx / NodeNext). */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`];
  return candidates.find((c) => statSync(c, { throwIfNoEntry: false })?.isFile());
}

/** `entry` and every file it imports through relative specifiers, transitively. */
export function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // hashed as missing by templateFingerprint
    }
    seen.add(file);
    for (const match of text.matchAll(RELATIVE_IMPORT)) {
      const found = resolveSpecifier(file, match[1] as string);
      if (found && !seen.has(found)) queue.push(found);
    }
  }
  return [...seen];
}

/** Every file whose contents shape the synthesized template (absolute paths, sorted). */
export function templateSourceFiles(root = REPO_ROOT): string[] {
  const files = new Set<string>();
  for (const dir of TEMPLATE_SOURCE_DIRS) walk(join(root, dir), files);
  for (const file of TEMPLATE_SOURCE_FILES) files.add(join(root, file));
  for (const file of importClosure(join(root, TEMPLATE_ENTRY))) files.add(file);
  return [...files].sort();
}

/**
 * SHA-256 over the files' paths (relative to `root`) and contents; a missing or unreadable file counts as
 * "missing", so creating, deleting or editing any of them changes the result.
 */
export function templateFingerprint(files: readonly string[], root = REPO_ROOT): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    const name = relative(root, file).split(sep).join('/');
    let content: Buffer | undefined;
    try {
      content = readFileSync(file);
    } catch {
      content = undefined;
    }
    const digest = content ? createHash('sha256').update(content).digest('hex') : 'missing';
    hash.update(`${name}\0${digest}\n`);
  }
  return hash.digest('hex');
}

export interface SynthCacheOptions {
  /** Where entries live. Default: defaultCacheDir(env). */
  dir?: string;
  /** The files whose contents are part of the key. Default: templateSourceFiles(root). */
  files?: readonly string[];
  /** The repository root the default file list and the relative paths in the hash start from. */
  root?: string;
  /** The environment CDK_ENVIRONMENT and TRAILGUARD_CACHE_DIR are read from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The kinds of entries: a synthesized template, a definition that passed validation. */
type EntryKind = 'synth' | 'valid';

interface Entry {
  format: number;
  key: string;
  value: unknown;
}

/** SHA-256 of the format, the caller's key, the files' contents and the CDK environment. */
export function cacheKey(key: unknown, options: SynthCacheOptions = {}): string {
  const root = options.root ?? REPO_ROOT;
  const env = options.env ?? process.env;
  const files = options.files ?? templateSourceFiles(root);
  const material = JSON.stringify({
    format: CACHE_FORMAT,
    key,
    code: templateFingerprint(files, root),
    environment: Object.fromEntries(CDK_ENVIRONMENT.map((name) => [name, env[name] ?? null])),
  });
  return createHash('sha256').update(material).digest('hex');
}

/** The file of an entry. */
export function entryFile(dir: string, kind: EntryKind, key: string): string {
  return join(dir, `${kind}-${key}${ENTRY_SUFFIX}`);
}

function readEntry<T>(file: string, key: string, validate: (value: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SynthCacheError(`cannot read ${file}`, { cause: error });
  }
  let entry: Partial<Entry> | null;
  try {
    entry = JSON.parse(text) as Partial<Entry> | null;
  } catch (error) {
    throw new SynthCacheError(`${file} is not JSON`, { cause: error });
  }
  if (!entry || typeof entry !== 'object' || entry.format !== CACHE_FORMAT || entry.key !== key) {
    throw new SynthCacheError(`${file} is not an entry of format ${CACHE_FORMAT} for key ${key}`);
  }
  try {
    return validate(entry.value);
  } catch (error) {
    throw new SynthCacheError(`${file} holds an invalid value`, { cause: error });
  }
}

/**
 * Writes an entry to a temporary file next to it, then renames it into place: rename is atomic, so a reader
 * sees the whole old entry, the whole new one or none, however many processes write at once. Then prunes.
 */
export function writeEntry(dir: string, kind: EntryKind, key: string, value: unknown): string {
  const file = entryFile(dir, kind, key);
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(temp, JSON.stringify({ format: CACHE_FORMAT, key, value } satisfies Entry));
    renameSync(temp, file);
  } catch (error) {
    removeQuietly(temp);
    throw new SynthCacheError(`cannot write ${file}`, { cause: error });
  }
  try {
    prune(dir, kind);
  } catch (error) {
    throw new SynthCacheError(`cannot prune ${dir}`, { cause: error });
  }
  return file;
}

/** Removes a temporary file, if it is there; a failure is not reported (it is not the error that matters). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // e.g. the folder is not a folder: the write failed for that reason, which is what is reported
  }
}

/** Keeps the newest MAX_ENTRIES entries of a kind; removes temporary files of writers that died. */
function prune(dir: string, kind: EntryKind, now = Date.now()): void {
  const entries: { path: string; mtime: number }[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`${kind}-`)) continue;
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (name.endsWith(TEMP_SUFFIX)) {
      if (now - stat.mtimeMs > STALE_TEMP_MS) rmSync(path, { force: true });
    } else if (name.endsWith(ENTRY_SUFFIX)) {
      entries.push({ path, mtime: stat.mtimeMs });
    }
  }
  entries.sort((a, b) => b.mtime - a.mtime);
  for (const old of entries.slice(MAX_ENTRIES)) rmSync(old.path, { force: true });
}

/** Marks an entry as just used, so that pruning keeps it (best effort: a failure only affects pruning). */
function touch(file: string): void {
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // pruning may then remove this entry earlier than the others; it is rewritten when needed again
  }
}

export interface CachedSynthesisRequest<T> {
  /** What the synthesis depends on besides the code: the parsed configuration, the synthesis options. */
  key: unknown;
  /** Synthesizes (on a miss). */
  produce: () => Promise<T>;
  /** Checks a value read back from disk and returns it typed; throws if it is not one `produce` returns. */
  validate: (value: unknown) => T;
}

export type CacheStatus = 'hit' | 'miss' | 'invalid';

export interface CachedSynthesis<T> {
  value: T;
  /** hit: read from disk; miss: no entry, synthesized; invalid: an unusable entry, synthesized and rewritten. */
  status: CacheStatus;
  file: string;
  /** Why the entry on disk was not used (status invalid). */
  invalid?: SynthCacheError;
  /** Writing the entry failed (the value is still returned: the cache only saves time). */
  writeError?: SynthCacheError;
}

/**
 * The value for `request.key` and the current code: read from the cache when there is a valid entry, else
 * produced, written atomically and returned. Errors of `produce` propagate; a failed write does not (it is
 * reported in `writeError`).
 */
export async function cachedSynthesis<T>(
  request: CachedSynthesisRequest<T>,
  options: SynthCacheOptions = {},
): Promise<CachedSynthesis<T>> {
  const dir = options.dir ?? defaultCacheDir(options.env);
  const key = cacheKey(request.key, options);
  const file = entryFile(dir, 'synth', key);
  let invalid: SynthCacheError | undefined;
  if (existsSync(file)) {
    try {
      const value = readEntry(file, key, request.validate);
      touch(file);
      return { value, status: 'hit', file };
    } catch (error) {
      invalid =
        error instanceof SynthCacheError
          ? error
          : new SynthCacheError(`${file} is unusable`, { cause: error });
    }
  }
  const value = await request.produce();
  let writeError: SynthCacheError | undefined;
  try {
    writeEntry(dir, 'synth', key, value);
  } catch (error) {
    writeError = error as SynthCacheError;
  }
  return {
    value,
    status: invalid ? 'invalid' : 'miss',
    file,
    ...(invalid ? { invalid } : {}),
    ...(writeError ? { writeError } : {}),
  };
}

/**
 * What validating a state machine definition depends on besides the definition and the options: the
 * validator's code, i.e. the installed packages (package-lock.json).
 */
export function validatorFiles(root = REPO_ROOT): string[] {
  return [join(root, 'package-lock.json')];
}

export interface ValidationRecord {
  /** `subject` passed validation before, with the same installed packages: validating it again may be skipped. */
  known: boolean;
  /** Records that `subject` passed validation (as it was when validationRecord was called). */
  record(): SynthCacheError | undefined;
}

/**
 * Whether `subject` (e.g. a state machine definition and the validation options, as JSON) passed validation
 * before, with the same installed packages (default files: validatorFiles()). Validation is deterministic: the
 * same subject validated by the same code passes again. The key is computed here, before the validator runs
 * (a validator may change the object it is given).
 */
export function validationRecord(subject: unknown, options: SynthCacheOptions = {}): ValidationRecord {
  const dir = options.dir ?? defaultCacheDir(options.env);
  const key = cacheKey(subject, { ...options, files: options.files ?? validatorFiles(options.root) });
  const file = entryFile(dir, 'valid', key);
  let known = false;
  if (existsSync(file)) {
    try {
      known = readEntry(file, key, (value) => {
        if (value !== true) throw new SynthCacheError('not a validation record');
        return true;
      });
      touch(file);
    } catch {
      known = false; // an unusable record: validate again, and record() rewrites it
    }
  }
  return {
    known,
    record: () => {
      try {
        writeEntry(dir, 'valid', key, true);
        return undefined;
      } catch (error) {
        return error as SynthCacheError;
      }
    },
  };
}
