/**
 * Finds the Python that runs moto's server (the local AWS emulator) for `npm test`, `npm run demo` and the
 * benchmark, installing moto itself when it is missing:
 *
 * 1. `TRAILGUARD_PYTHON`, when set, is used as is (it must import `moto.server`; nothing is installed).
 * 2. `python3`, when it imports `moto.server`.
 * 3. The project-local virtual environment `.venv-moto/`, reused when ready, otherwise created with
 *    `python3 -m venv` and given the pinned `moto[server]==MOTO_VERSION` with pip. It counts as ready only
 *    when its marker file names the pinned requirement, and the marker is written only after the import was
 *    checked, so an interrupted or failed install is never mistaken for a ready one. A lock directory keeps
 *    two processes (say `npm test` and `npm run demo`) from building it at the same time.
 *
 * Every failure is a MotoUnavailableError whose message is one line: what is missing or what failed, and
 * what to do. All processes are started through an injectable runner, so the decisions are unit-tested
 * without creating environments.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The moto version checked on these machines; the one installed into `.venv-moto/`. */
export const MOTO_VERSION = '5.2.1';
export const MOTO_REQUIREMENT = `moto[server]==${MOTO_VERSION}`;
/** The virtual environment's directory, relative to the repository root (git-ignored). */
export const MOTO_VENV_DIR = '.venv-moto';
/** Written into the environment, holding MOTO_REQUIREMENT, once moto was installed and imports. */
export const MOTO_READY_MARKER = '.trailguard-ready';
/** Oldest Python moto MOTO_VERSION supports. */
export const MIN_PYTHON = [3, 9] as const;

const MANUAL = `or install it yourself: python3 -m pip install "${MOTO_REQUIREMENT}" (or set TRAILGUARD_PYTHON to a Python that has it)`;

export class MotoUnavailableError extends Error {
  override name = 'MotoUnavailableError';
}

export interface RunResult {
  /** Exit code; null when the process could not be started or was killed by a signal. */
  status: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started (e.g. ENOENT). */
  error?: NodeJS.ErrnoException;
}

/** Runs a command to completion and reports its exit code and output. Never rejects. */
export type Runner = (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<RunResult>;

const OUTPUT_LIMIT = 64_000;

export const spawnRunner: Runner = (command, args, env) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-OUTPUT_LIMIT);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-OUTPUT_LIMIT);
    });
    child.once('error', (error) => resolve({ status: null, stdout, stderr, error }));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });

export interface MotoPython {
  /** The interpreter to start `-m moto.server` with. */
  python: string;
  source: 'TRAILGUARD_PYTHON' | 'python3' | 'venv';
  /** The interpreter's version, e.g. "3.11.7". */
  pythonVersion: string;
  /** True when moto was installed by this call. */
  installed: boolean;
}

export interface ResolveMotoPythonOptions {
  /** Read for TRAILGUARD_PYTHON and passed to every process; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where `.venv-moto/` lives; default the repository root. */
  root?: string;
  run?: Runner;
  /** Progress lines (installing, waiting for another install); default stderr. */
  log?: (line: string) => void;
  /** How long to wait for another process's install; default 15 minutes. */
  lockWaitMs?: number;
  /** How often to look at the lock meanwhile; default 500 ms. */
  lockPollMs?: number;
  /** A lock whose owner cannot be checked counts as abandoned after this; default 30 minutes. */
  staleLockMs?: number;
}

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); import moto.server";

interface Probe {
  /** The interpreter ran (printed its version). */
  ran: boolean;
  version: string;
  /** `import moto.server` succeeded. */
  moto: boolean;
  /** One line on why not. */
  detail: string;
}

async function probe(run: Runner, python: string, env: NodeJS.ProcessEnv): Promise<Probe> {
  const result = await run(python, ['-c', PROBE], env);
  const version = /^(\d+\.\d+\.\d+)\s*$/m.exec(result.stdout)?.[1] ?? '';
  return {
    ran: version !== '',
    version,
    moto: version !== '' && result.status === 0 && !result.error,
    detail: failureLine(result),
  };
}

/** One line saying why a process failed: the error line of its stderr, else its last line. */
export function failureLine(result: RunResult): string {
  if (result.error) return oneLine(result.error.code ?? result.error.message);
  if (/ensurepip is not\s+available/.test(result.stderr))
    return 'ensurepip is not available (on Debian/Ubuntu: apt install python3-venv)';
  const lines = result.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = oneLine(
    lines.findLast((l) => /^(error|\w*Error\b)/i.test(l)) ??
      lines.at(-1) ??
      `exit code ${result.status ?? 'none'}`,
  );
  // pip says "no matching distribution" also when it could not reach the index at all.
  return /NewConnectionError|Failed to establish a new connection|ConnectTimeoutError|ProxyError/.test(
    result.stderr,
  )
    ? `${line}; the package index could not be reached`
    : line;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

function tooOld(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1]);
}

/** The interpreter inside a virtual environment. */
export function venvPython(venv: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python');
}

/** Resolves (and when needed installs) the Python that runs moto's server. See the module comment. */
export async function resolveMotoPython(options: ResolveMotoPythonOptions = {}): Promise<MotoPython> {
  const env = options.env ?? process.env;
  const run = options.run ?? spawnRunner;

  const pinned = env.TRAILGUARD_PYTHON;
  if (pinned) {
    const p = await probe(run, pinned, env);
    if (p.moto)
      return { python: pinned, source: 'TRAILGUARD_PYTHON', pythonVersion: p.version, installed: false };
    throw new MotoUnavailableError(
      `TRAILGUARD_PYTHON=${pinned} ${p.ran ? 'cannot import moto.server' : 'is not a working Python'} (${p.detail}); ` +
        `install "${MOTO_REQUIREMENT}" into it, or unset TRAILGUARD_PYTHON to have moto installed into ${MOTO_VENV_DIR}/ automatically`,
    );
  }

  const system = await probe(run, 'python3', env);
  if (system.moto)
    return { python: 'python3', source: 'python3', pythonVersion: system.version, installed: false };
  if (!system.ran)
    throw new MotoUnavailableError(
      `python3 (${MIN_PYTHON.join('.')} or later) is missing (${system.detail}): install it; ` +
        `moto, the local AWS emulator, and everything else are then installed automatically`,
    );
  if (tooOld(system.version))
    throw new MotoUnavailableError(
      `python3 is ${system.version}, moto ${MOTO_VERSION} (the local AWS emulator) needs Python ${MIN_PYTHON.join('.')} or later: ` +
        `install a newer python3 (or set TRAILGUARD_PYTHON); moto is then installed automatically`,
    );
  return ensureMotoVenv({ ...options, env, run });
}

/**
 * Returns `.venv-moto/`'s interpreter, building the environment first unless it is ready (marker naming the
 * pinned requirement, and moto.server imports). Built under a lock; removed again when building fails.
 */
export async function ensureMotoVenv(options: ResolveMotoPythonOptions = {}): Promise<MotoPython> {
  const env = options.env ?? process.env;
  const run = options.run ?? spawnRunner;
  const root = options.root ?? REPOSITORY_ROOT;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const venv = join(root, MOTO_VENV_DIR);
  const python = venvPython(venv);

  const ready = async (): Promise<MotoPython | undefined> => {
    const marker = await readFile(join(venv, MOTO_READY_MARKER), 'utf8').catch(() => undefined);
    if (marker?.trim() !== MOTO_REQUIREMENT) return undefined;
    const p = await probe(run, python, env);
    return p.moto ? { python, source: 'venv', pythonVersion: p.version, installed: false } : undefined;
  };

  const reused = await ready();
  if (reused) return reused;

  const release = await acquireLock(join(root, `${MOTO_VENV_DIR}.lock`), {
    log,
    waitMs: options.lockWaitMs ?? 15 * 60_000,
    pollMs: options.lockPollMs ?? 500,
    staleMs: options.staleLockMs ?? 30 * 60_000,
  });
  try {
    // Another process may have finished building it while this one waited for the lock.
    const built = await ready();
    if (built) return built;

    log(
      `trailguard: installing moto ${MOTO_VERSION} (the local AWS emulator) into ${MOTO_VENV_DIR}/ — once, this takes a minute or two`,
    );
    await rm(venv, { recursive: true, force: true });
    const fail = async (what: string, result: RunResult): Promise<never> => {
      await rm(venv, { recursive: true, force: true });
      throw new MotoUnavailableError(
        `could not install moto: ${what} failed (${failureLine(result)}); ${MANUAL}`,
        {
          cause: new Error(`${what}: exit ${result.status}\n${result.stderr}`, { cause: result.error }),
        },
      );
    };

    const created = await run('python3', ['-m', 'venv', venv], env);
    if (created.status !== 0 || created.error) return await fail(`python3 -m venv ${MOTO_VENV_DIR}`, created);

    const pip = await run(
      python,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', MOTO_REQUIREMENT],
      env,
    );
    if (pip.status !== 0 || pip.error) return await fail(`pip install "${MOTO_REQUIREMENT}"`, pip);

    const check = await run(python, ['-c', PROBE], env);
    const version = /^(\d+\.\d+\.\d+)\s*$/m.exec(check.stdout)?.[1];
    if (check.status !== 0 || check.error || !version)
      return await fail(`importing moto.server after installing it`, check);

    await writeFile(join(venv, MOTO_READY_MARKER), `${MOTO_REQUIREMENT}\n`);
    return { python, source: 'venv', pythonVersion: version, installed: true };
  } finally {
    await release();
  }
}

interface LockOwner {
  pid: number;
  host: string;
  at: number;
}

const OWNER_FILE = 'owner.json';

/**
 * Takes the lock directory (mkdir is atomic), waiting while another live process holds it. A lock is taken
 * over when its owner is a process on this host that no longer runs, or, when that cannot be told, when it is
 * older than staleMs. Returns the release function.
 */
async function acquireLock(
  dir: string,
  options: { log: (line: string) => void; waitMs: number; pollMs: number; staleMs: number },
): Promise<() => Promise<void>> {
  const deadline = Date.now() + options.waitMs;
  let announced = false;
  for (;;) {
    try {
      await mkdir(dir);
      const owner: LockOwner = { pid: process.pid, host: hostname(), at: Date.now() };
      await writeFile(join(dir, OWNER_FILE), JSON.stringify(owner));
      return () => rm(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new MotoUnavailableError(`could not create the lock ${dir} (${oneLine(String(error))})`, {
          cause: error,
        });
    }
    const state = await lockState(dir, options.staleMs);
    if (state === 'released') continue;
    if (state === 'abandoned') {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() >= deadline)
      throw new MotoUnavailableError(
        `gave up after ${Math.round(options.waitMs / 1000)} s waiting for another process installing moto ` +
          `(lock ${dir}); if none is running, delete that directory and try again`,
      );
    if (!announced) {
      options.log(`trailguard: waiting for another process installing moto into ${MOTO_VENV_DIR}/`);
      announced = true;
    }
    await sleep(options.pollMs);
  }
}

async function lockState(dir: string, staleMs: number): Promise<'held' | 'abandoned' | 'released'> {
  const owner = await readFile(join(dir, OWNER_FILE), 'utf8')
    .then((text) => JSON.parse(text) as Partial<LockOwner>)
    .catch(() => undefined);
  if (owner && owner.host === hostname() && typeof owner.pid === 'number')
    return isAlive(owner.pid) ? 'held' : 'abandoned';
  // No owner file (just being written, or its writer died in between) or another host: go by age.
  const since = await stat(dir).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  if (since === undefined) return 'released';
  return Date.now() - since > (owner ? staleMs : Math.min(staleMs, 60_000)) ? 'abandoned' : 'held';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
