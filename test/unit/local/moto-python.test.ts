/**
 * Which Python runs moto, and installing moto into `.venv-moto/` when missing. The decisions run against a
 * scripted runner (no real environments) in a temporary root; one test creates a real virtual environment and
 * lets a real pip fail offline against an empty local index.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { devNull, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureMotoVenv,
  MOTO_READY_MARKER,
  MOTO_REQUIREMENT,
  MOTO_VENV_DIR,
  MOTO_VERSION,
  MotoUnavailableError,
  type Runner,
  type RunResult,
  resolveMotoPython,
  spawnRunner,
  venvPython,
} from '../../../services/local/moto-python.js';

const NO_MODULE =
  'Traceback (most recent call last):\n  File "<string>", line 1\nModuleNotFoundError: No module named \'moto\'\n';
const PIP_OFFLINE =
  "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(...)': /simple/moto/\n" +
  'ERROR: Could not find a version that satisfies the requirement moto[server]==5.2.1 (from versions: none)\n' +
  'ERROR: No matching distribution found for moto[server]==5.2.1\n';
const ENSUREPIP_MISSING =
  'The virtual environment was not successfully created because ensurepip is not\navailable.  On Debian/Ubuntu systems, you need to install the python3-venv\npackage using the following command.\n\n    apt install python3.11-venv\n\nFailing command: /x/bin/python3\n';

interface World {
  python3: 'moto' | 'bare' | 'missing' | 'old';
  venvCreate: 'ok' | 'no-ensurepip';
  pip: 'ok' | 'offline';
  /** Whether moto imports in the venv after a successful pip. */
  importsAfterPip: boolean;
  /** TRAILGUARD_PYTHON's interpreter: has moto or not. */
  pinnedHasMoto: boolean;
  pipDelayMs: number;
}

interface Call {
  command: string;
  args: readonly string[];
  /** Whether the ready marker existed when the process started. */
  markerPresent: boolean;
}

const ok = (stdout = ''): RunResult => ({ status: 0, stdout, stderr: '' });
const failed = (stderr: string, stdout = ''): RunResult => ({ status: 1, stdout, stderr });

let root: string;
let venv: string;
let vpython: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'trailguard-moto-python-'));
  venv = join(root, MOTO_VENV_DIR);
  vpython = venvPython(venv);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A scripted runner standing in for python3, the venv's python, pip and TRAILGUARD_PYTHON. */
function scripted(overrides: Partial<World> = {}) {
  const world: World = {
    python3: 'bare',
    venvCreate: 'ok',
    pip: 'ok',
    importsAfterPip: true,
    pinnedHasMoto: true,
    pipDelayMs: 0,
    ...overrides,
  };
  const calls: Call[] = [];
  /** moto installed in the venv (lost when the directory is removed). */
  const venvHasMoto = () => existsSync(join(venv, 'site-packages-moto'));
  const run: Runner = async (command, args) => {
    calls.push({ command, args, markerPresent: existsSync(join(venv, MOTO_READY_MARKER)) });
    const probe = args[0] === '-c';
    if (command === 'python3') {
      if (world.python3 === 'missing')
        return {
          status: null,
          stdout: '',
          stderr: '',
          error: Object.assign(new Error('spawn python3 ENOENT'), { code: 'ENOENT' }),
        };
      if (probe) {
        if (world.python3 === 'moto') return ok('3.11.7\n');
        if (world.python3 === 'old') return failed(NO_MODULE, '3.8.10\n');
        return failed(NO_MODULE, '3.11.7\n');
      }
      if (args[0] === '-m' && args[1] === 'venv') {
        if (world.venvCreate === 'no-ensurepip') {
          await mkdir(String(args[2]), { recursive: true }); // Debian leaves a partial directory behind
          return failed(ENSUREPIP_MISSING);
        }
        await mkdir(join(String(args[2]), 'bin'), { recursive: true });
        await writeFile(venvPython(String(args[2])), '');
        return ok();
      }
    }
    if (command === vpython) {
      if (!existsSync(vpython))
        return {
          status: null,
          stdout: '',
          stderr: '',
          error: Object.assign(new Error('ENOENT'), { code: 'ENOENT' }),
        };
      if (probe) return venvHasMoto() ? ok('3.11.7\n') : failed(NO_MODULE, '3.11.7\n');
      if (args.includes('pip')) {
        await new Promise((r) => setTimeout(r, world.pipDelayMs));
        if (world.pip === 'offline') return failed(PIP_OFFLINE);
        if (world.importsAfterPip) await writeFile(join(venv, 'site-packages-moto'), '');
        return ok();
      }
    }
    if (command === '/opt/pinned/python' && probe)
      return world.pinnedHasMoto ? ok('3.12.1\n') : failed(NO_MODULE, '3.12.1\n');
    throw new Error(`unexpected process: ${command} ${args.join(' ')}`);
  };
  const log: string[] = [];
  const options = { root, run, env: {} as NodeJS.ProcessEnv, log: (line: string) => log.push(line) };
  const kinds = () =>
    calls.map((c) =>
      c.args[0] === '-c'
        ? `probe ${c.command === vpython ? 'venv' : c.command}`
        : c.args.includes('pip')
          ? 'pip'
          : 'venv',
    );
  return { world, calls, log, options, kinds };
}

/** Prepares a venv as a finished install left it. */
async function readyVenv(marker = `${MOTO_REQUIREMENT}\n`): Promise<void> {
  await mkdir(join(venv, 'bin'), { recursive: true });
  await writeFile(vpython, '');
  await writeFile(join(venv, 'site-packages-moto'), '');
  await writeFile(join(venv, MOTO_READY_MARKER), marker);
}

async function rejection(promise: Promise<unknown>): Promise<MotoUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MotoUnavailableError);
  return error as MotoUnavailableError;
}

const lockDir = () => join(root, `${MOTO_VENV_DIR}.lock`);

describe('resolveMotoPython', () => {
  it('the pin is one constant: moto[server]==5.2.1', () => {
    expect(MOTO_VERSION).toBe('5.2.1');
    expect(MOTO_REQUIREMENT).toBe('moto[server]==5.2.1');
  });

  it('uses python3 when it imports moto.server, creating no venv and running no pip', async () => {
    const s = scripted({ python3: 'moto' });
    await expect(resolveMotoPython(s.options)).resolves.toEqual({
      python: 'python3',
      source: 'python3',
      pythonVersion: '3.11.7',
      installed: false,
    });
    expect(s.kinds()).toEqual(['probe python3']);
    expect(s.calls[0]?.args).toEqual(['-c', expect.stringContaining('import moto.server')]);
    expect(existsSync(venv)).toBe(false);
    expect(existsSync(lockDir())).toBe(false);
    expect(s.log).toEqual([]);
  });

  it('reuses a ready .venv-moto/ silently: no venv, no pip, no lock', async () => {
    await readyVenv();
    const s = scripted();
    await expect(resolveMotoPython(s.options)).resolves.toEqual({
      python: vpython,
      source: 'venv',
      pythonVersion: '3.11.7',
      installed: false,
    });
    expect(s.kinds()).toEqual(['probe python3', 'probe venv']);
    expect(existsSync(lockDir())).toBe(false);
    expect(s.log).toEqual([]);
  });

  it('without moto anywhere: creates the venv, pip-installs the pinned version, marks it ready only after the import check', async () => {
    const s = scripted();
    const result = await resolveMotoPython(s.options);
    expect(result).toEqual({ python: vpython, source: 'venv', pythonVersion: '3.11.7', installed: true });
    expect(s.kinds()).toEqual(['probe python3', 'venv', 'pip', 'probe venv']);
    expect(s.calls[1]).toMatchObject({ command: 'python3', args: ['-m', 'venv', venv] });
    expect(s.calls[2]).toMatchObject({
      command: vpython,
      args: ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', 'moto[server]==5.2.1'],
    });
    expect(s.calls.map((c) => c.markerPresent)).toEqual([false, false, false, false]);
    expect(await readFile(join(venv, MOTO_READY_MARKER), 'utf8')).toBe('moto[server]==5.2.1\n');
    expect(s.log).toHaveLength(1);
    expect(s.log[0]).toMatch(/installing moto 5\.2\.1 .*\.venv-moto\//);
    expect(existsSync(lockDir())).toBe(false);

    // The next run reuses it without installing or saying anything.
    const again = scripted();
    await expect(resolveMotoPython(again.options)).resolves.toMatchObject({
      source: 'venv',
      installed: false,
    });
    expect(again.kinds()).toEqual(['probe python3', 'probe venv']);
    expect(again.log).toEqual([]);
  });

  it.each([
    ['no ready marker (an interrupted install)', undefined],
    ['a marker for another moto version', 'moto[server]==5.0.0\n'],
  ])('rebuilds a venv with %s even though moto imports in it', async (_name, marker) => {
    await readyVenv(marker ?? '');
    if (marker === undefined) await rm(join(venv, MOTO_READY_MARKER));
    const s = scripted();
    await expect(resolveMotoPython(s.options)).resolves.toMatchObject({ source: 'venv', installed: true });
    expect(s.kinds()).toEqual(['probe python3', 'venv', 'pip', 'probe venv']);
    expect(await readFile(join(venv, MOTO_READY_MARKER), 'utf8')).toBe(`${MOTO_REQUIREMENT}\n`);
  });

  it('pip failing (no PyPI): one line naming pip’s error and the manual way; nothing marked ready or left behind', async () => {
    const s = scripted({ pip: 'offline' });
    const error = await rejection(resolveMotoPython(s.options));
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain(
      'pip install "moto[server]==5.2.1" failed (ERROR: No matching distribution found for moto[server]==5.2.1; the package index could not be reached)',
    );
    expect(error.message).toContain('python3 -m pip install "moto[server]==5.2.1"');
    expect(error.message).toContain('TRAILGUARD_PYTHON');
    expect((error.cause as Error).message).toContain('WARNING: Retrying');
    expect(existsSync(venv)).toBe(false);
    expect(existsSync(lockDir())).toBe(false);

    // A later run (say PyPI is reachable again) installs from scratch.
    const later = scripted();
    await expect(resolveMotoPython(later.options)).resolves.toMatchObject({ installed: true });
    expect(later.kinds()).toEqual(['probe python3', 'venv', 'pip', 'probe venv']);
  });

  it('pip succeeding but moto.server not importing afterwards: error, not marked ready', async () => {
    const s = scripted({ importsAfterPip: false });
    const error = await rejection(resolveMotoPython(s.options));
    expect(error.message).toMatch(
      /^could not install moto: importing moto\.server after installing it failed \(ModuleNotFoundError: No module named 'moto'\); or install it yourself/,
    );
    expect(error.message).not.toContain('\n');
    expect(existsSync(join(venv, MOTO_READY_MARKER))).toBe(false);
  });

  it('python3 -m venv failing (no ensurepip): one line, no pip, the partial directory removed', async () => {
    const s = scripted({ venvCreate: 'no-ensurepip' });
    const error = await rejection(resolveMotoPython(s.options));
    expect(error.message).toBe(
      'could not install moto: python3 -m venv .venv-moto failed (ensurepip is not available (on Debian/Ubuntu: apt install python3-venv)); ' +
        'or install it yourself: python3 -m pip install "moto[server]==5.2.1" (or set TRAILGUARD_PYTHON to a Python that has it)',
    );
    expect(s.kinds()).toEqual(['probe python3', 'venv']);
    expect(existsSync(venv)).toBe(false);
  });

  it('no python3 at all: the one clear line says what is missing and that the rest is automatic', async () => {
    const s = scripted({ python3: 'missing' });
    const error = await rejection(resolveMotoPython(s.options));
    expect(error.message).toBe(
      'python3 (3.9 or later) is missing (ENOENT): install it; moto, the local AWS emulator, and everything else are then installed automatically',
    );
    expect(s.kinds()).toEqual(['probe python3']);
    expect(existsSync(venv)).toBe(false);
  });

  it('a python3 older than 3.9 is refused before building anything', async () => {
    const s = scripted({ python3: 'old' });
    const error = await rejection(resolveMotoPython(s.options));
    expect(error.message).toMatch(/^python3 is 3\.8\.10, moto 5\.2\.1 .* needs Python 3\.9 or later/);
    expect(s.kinds()).toEqual(['probe python3']);
  });

  it('honours TRAILGUARD_PYTHON as is: used when it has moto, python3 not even asked', async () => {
    const s = scripted({ python3: 'missing' });
    const env = { TRAILGUARD_PYTHON: '/opt/pinned/python' };
    await expect(resolveMotoPython({ ...s.options, env })).resolves.toEqual({
      python: '/opt/pinned/python',
      source: 'TRAILGUARD_PYTHON',
      pythonVersion: '3.12.1',
      installed: false,
    });
    expect(s.calls.map((c) => c.command)).toEqual(['/opt/pinned/python']);
  });

  it('TRAILGUARD_PYTHON without moto: a clear error and no install, even though python3 has moto', async () => {
    const s = scripted({ python3: 'moto', pinnedHasMoto: false });
    const env = { TRAILGUARD_PYTHON: '/opt/pinned/python' };
    const error = await rejection(resolveMotoPython({ ...s.options, env }));
    expect(error.message).toBe(
      "TRAILGUARD_PYTHON=/opt/pinned/python cannot import moto.server (ModuleNotFoundError: No module named 'moto'); " +
        'install "moto[server]==5.2.1" into it, or unset TRAILGUARD_PYTHON to have moto installed into .venv-moto/ automatically',
    );
    expect(s.calls.map((c) => c.command)).toEqual(['/opt/pinned/python']);
    expect(existsSync(venv)).toBe(false);
  });
});

describe('ensureMotoVenv: two processes at once', () => {
  it('builds once under the lock; the other waits and reuses the result', async () => {
    const s = scripted({ pipDelayMs: 200 });
    const options = { ...s.options, lockPollMs: 10 };
    const [a, b] = await Promise.all([ensureMotoVenv(options), ensureMotoVenv(options)]);
    expect(s.kinds().filter((k) => k === 'pip')).toHaveLength(1);
    expect(s.kinds().filter((k) => k === 'venv')).toHaveLength(1);
    expect([a.installed, b.installed].sort()).toEqual([false, true]);
    expect(a.python).toBe(vpython);
    expect(b.python).toBe(vpython);
    expect(s.log.filter((l) => l.includes('waiting for another process'))).toHaveLength(1);
    expect(existsSync(lockDir())).toBe(false);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    await mkdir(lockDir());
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(lockDir(), 'owner.json'), JSON.stringify({ pid: dead, host: hostname(), at: 0 }));
    const s = scripted();
    await expect(ensureMotoVenv({ ...s.options, lockWaitMs: 1000, lockPollMs: 10 })).resolves.toMatchObject({
      installed: true,
    });
    expect(existsSync(lockDir())).toBe(false);
  });

  it('gives up with one line while a live process holds the lock, touching nothing', async () => {
    await mkdir(lockDir());
    await writeFile(
      join(lockDir(), 'owner.json'),
      JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }),
    );
    const s = scripted();
    const error = await rejection(ensureMotoVenv({ ...s.options, lockWaitMs: 100, lockPollMs: 10 }));
    expect(error.message).toMatch(
      /^gave up after 0 s waiting for another process installing moto \(lock .*\.venv-moto\.lock\)/,
    );
    expect(error.message).not.toContain('\n');
    expect(s.calls).toEqual([]);
    expect(existsSync(lockDir())).toBe(true); // still the other process's
  });
});

describe('real python3 -m venv (no PyPI on this machine: the successful download is not exercised)', () => {
  it('moto not importable: creates a real venv, a real pip against an empty local index fails fast with one clear line, nothing marked ready', async () => {
    const capability = spawnSync('python3', ['-c', 'import ensurepip, venv'], { encoding: 'utf8' });
    // moto hidden from python3 (it may be installed here): a `moto` package on PYTHONPATH that fails to import.
    const stub = join(root, 'hide-moto');
    await mkdir(join(stub, 'moto'), { recursive: true });
    await writeFile(join(stub, 'moto', '__init__.py'), 'raise ImportError("moto hidden by the test")\n');
    const emptyIndex = join(root, 'empty-index');
    await mkdir(emptyIndex);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PYTHONPATH: stub,
      PIP_CONFIG_FILE: devNull, // ignore machine-wide indexes
      PIP_NO_INDEX: '1',
      PIP_FIND_LINKS: emptyIndex,
    };
    delete env.TRAILGUARD_PYTHON;
    const calls: string[] = [];
    const run: Runner = async (command, args, childEnv) => {
      const result = await spawnRunner(command, args, childEnv);
      calls.push(`${command} ${args.join(' ')} -> ${result.status}`);
      return result;
    };
    const log: string[] = [];
    const error = await rejection(resolveMotoPython({ root, env, run, log: (l) => log.push(l) }));

    expect(error.message).not.toContain('\n');
    if (capability.error) {
      // No python3 on this machine.
      expect(error.message).toMatch(/^python3 \(3\.9 or later\) is missing/);
    } else if (capability.status !== 0) {
      // python3 without ensurepip (Debian without python3-venv): venv creation fails clearly.
      expect(error.message).toMatch(
        /^could not install moto: python3 -m venv \.venv-moto failed \(ensurepip/,
      );
    } else {
      expect(calls).toEqual([
        expect.stringMatching(/^python3 -c .*import moto\.server -> 1$/),
        `python3 -m venv ${venv} -> 0`,
        `${vpython} -m pip install --disable-pip-version-check -q moto[server]==5.2.1 -> 1`,
      ]);
      expect(error.message).toBe(
        'could not install moto: pip install "moto[server]==5.2.1" failed (ERROR: No matching distribution found for moto[server]==5.2.1); ' +
          'or install it yourself: python3 -m pip install "moto[server]==5.2.1" (or set TRAILGUARD_PYTHON to a Python that has it)',
      );
      expect(log).toEqual([expect.stringContaining('installing moto 5.2.1')]);
    }
    expect(existsSync(join(venv, MOTO_READY_MARKER))).toBe(false);
    expect(existsSync(venv)).toBe(false);
    expect(existsSync(lockDir())).toBe(false);
  }, 120_000); // creating a real venv takes 5-15 s on a loaded machine
});
