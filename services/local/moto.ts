/**
 * Starts and stops a moto server (the local AWS emulator) on a free loopback port. Used by the tests' global
 * setup, `npm run demo` and the benchmark. Stops exactly the process it started. Which Python runs it, and
 * installing moto when missing: ./moto-python.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { MotoUnavailableError, resolveMotoPython } from './moto-python.js';

export { MotoUnavailableError } from './moto-python.js';

export interface MotoServer {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new MotoUnavailableError(`moto exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new MotoUnavailableError(`moto did not answer at ${endpoint} within ${timeoutMs} ms`, {
    cause: lastError,
  });
}

/**
 * `python -m moto.server`, minus two costs per request that have nothing to do with AWS (measured by sampling the
 * server's threads during the test suite; together over half of moto's time):
 * - moto 5.2's dispatcher calls `backends.list_of_moto_modules()` on every request, which lists moto's package
 *   directory and stats each entry; the listing cannot change while the server runs, so it is computed once;
 * - werkzeug logs one line per request to stderr (which the parent then reads); warnings and errors still go.
 * Every request is still served by moto's own server and backends, as before.
 */
export const MOTO_LAUNCHER = [
  'import logging, sys',
  'import moto.backends as backends',
  "if hasattr(backends, 'list_of_moto_modules'):",
  '    modules = tuple(backends.list_of_moto_modules())',
  '    backends.list_of_moto_modules = lambda: modules',
  "logging.getLogger('werkzeug').setLevel(logging.WARNING)",
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

/**
 * Starts moto with the Python `resolveMotoPython` finds: TRAILGUARD_PYTHON, else python3 when it has moto,
 * else `.venv-moto/` (moto installed there first when missing). Throws MotoUnavailableError.
 */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
  const { python } = await resolveMotoPython();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, ['-c', MOTO_LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_CALL_RESET_API: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitUntilUp(endpoint, child, options.timeoutMs ?? 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new MotoUnavailableError(`${(error as Error).message}\n${stderr}`, { cause: error });
  }
  const pid = child.pid ?? -1;
  return {
    endpoint,
    port,
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Wipes all of moto's state. */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}

export interface SentNotification {
  topicArn: string;
  messageId: string;
  subject: string | null;
  message: string;
  messageAttributes: Record<
    string,
    { DataType?: string; StringValue?: string; Type?: string; Value?: string }
  >;
}

/** The SNS messages moto has recorded, oldest first (moto keeps them per topic in `sent_notifications`). */
export async function sentNotifications(endpoint: string): Promise<SentNotification[]> {
  const res = await fetch(`${endpoint}/moto-api/data.json`);
  if (!res.ok) throw new Error(`moto data.json failed: HTTP ${res.status}`);
  const data = (await res.json()) as {
    sns?: { Topic?: { arn: string; sent_notifications?: unknown[][] }[] };
  };
  const out: SentNotification[] = [];
  for (const topic of data.sns?.Topic ?? []) {
    for (const [messageId, message, subject, attributes] of topic.sent_notifications ?? []) {
      out.push({
        topicArn: topic.arn,
        messageId: String(messageId),
        message: String(message),
        subject: typeof subject === 'string' ? subject : null,
        messageAttributes: (attributes ?? {}) as SentNotification['messageAttributes'],
      });
    }
  }
  return out;
}
