/**
 * Bundles and cold starts. Each step's handler is bundled as NodejsFunction bundles it (functions.ts: ESM, minified,
 * node24, the SDK and the layer's Tracer external), then in a fresh Node process: import (init) and one invocation
 * with the input the step got in a real run, against the emulator, in CPU time (Node's start included): it excludes
 * the wait for the emulator and is what memory size scales. The floor (writeFloor) loads exactly the SDK packages the
 * step called, the way its bundle loads them, and sends each operation the step sent once: each operation's first use
 * sets up its serializer and parser. Steps and floors interleaved round by round; medians after one warm-up round.
 */ import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { LAYER_EXTERNALS, REPO_ROOT } from '../infra/constructs/functions.js';
import type { StepName } from '../services/handlers/registry.js';
import type { SentOperation } from './call-counter.js';
import { median, spawnOutput } from './stats.js';

export const SCRATCH = join(REPO_ROOT, '.bench-tmp');
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";
/** What functions.ts gives NodejsFunction: the SDK from the runtime, Tracer from the Powertools layer. */
export const EXTERNALS = ['@aws-sdk/*', ...LAYER_EXTERNALS];

/** Bundles `entry` as the stack does; its size in bytes. */
export async function bundle(entry: string, outfile: string, externals = EXTERNALS): Promise<number> {
  await build({
    entryPoints: [entry],
    bundle: true,
    target: 'node24',
    platform: 'node',
    format: 'esm',
    outfile,
    minify: true,
    external: externals,
    banner: { js: BANNER },
    mainFields: ['module', 'main'],
    absWorkingDir: REPO_ROOT,
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

/** `CloudWatchLogsClient` -> `@aws-sdk/client-cloudwatch-logs` (a wrong name fails the floor's import). */
const packageOf = (client: string) =>
  `@aws-sdk/client-${client === 'CloudWatchLogsClient' ? 'cloudwatch-logs' : client.replace(/Client$/, '').toLowerCase()}`;
/** DynamoDB helper packages a bundle may use with its DynamoDB client (document client, marshalling). */
const DYNAMODB_HELPERS = ['@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb'];
/** Operations the floor replays with the step's own input; any other is sent empty, so the floor changes nothing. */
const READ_OPERATION = /^(Describe|Get|List|Lookup|Query|Scan|BatchGet)/;

/**
 * The SDK packages of the clients `operations` used, plus the DynamoDB helpers the step's bundle names, each with how
 * the bundle loads it: a static import (`from"<package>"`, loaded at init; Node's ESM loader first reads a CommonJS
 * package's source to detect its format) or `require` where the step first uses it (services/aws/sdk.ts).
 */
export function floorPackages(operations: readonly SentOperation[], bundleFile: string): FloorPackage[] {
  const text = readFileSync(bundleFile, 'utf8');
  const packages = operations.map(({ client }) => packageOf(client));
  if (operations.some((o) => o.client === 'DynamoDBClient'))
    packages.push(...DYNAMODB_HELPERS.filter((p) => text.includes(`"${p}"`)));
  return [...new Set(packages)].sort().map((name) => ({ name, imported: text.includes(`from"${name}"`) }));
}
export type FloorPackage = { name: string; imported: boolean };

/**
 * Writes the floor of a step that sent `operations`: it loads `packages` as the step's bundle does, creates one client
 * per service at init, and sends each operation once, in the step's order. A read goes with the step's own input (the
 * same answer to parse); a write goes empty (refused, so the floor changes nothing the step's rounds read).
 */
export function writeFloor(
  outfile: string,
  operations: readonly SentOperation[],
  packages: FloorPackage[],
): void {
  const imports = packages.map(({ name, imported }, i) =>
    imported ? `import * as m${i} from '${name}';` : `const m${i} = require('${name}');`,
  );
  const moduleOf = (client: string) => `m${packages.findIndex((p) => p.name === packageOf(client))}`;
  const clients = [...new Set(operations.map((o) => o.client))];
  const made = clients.map((c, i) => `const c${i} = new ${moduleOf(c)}.${c}({});`);
  const sends = operations.map(({ client, command, input }) => {
    const body = READ_OPERATION.test(command) ? JSON.stringify(input) : '{}';
    return `  await c${clients.indexOf(client)}.send(new ${moduleOf(client)}.${command}(${body})).catch(() => undefined);`;
  });
  mkdirSync(join(outfile, '..'), { recursive: true });
  writeFileSync(
    outfile,
    `${BANNER}\n${imports.join('\n')}\n${made.join('\n')}\nexport const handler = async () => {\n${sends.join('\n')}\n};\n`,
  );
}

/** CPU ms at the module's evaluation (since the process started) and of the first invocation. */
type ColdSample = Record<'initCpuMs' | 'firstCpuMs', number>;

const PROBE = `
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const { readFileSync } = await import('node:fs');
const payload = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : {};
const mod = await import(process.argv[1]);
const initCpuMs = cpu();
const context = { functionName: 'bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', memoryLimitInMB: '1769', awsRequestId: 'bench', logGroupName: 'bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000 };
await mod.handler(payload, context);
process.stdout.write(JSON.stringify({ initCpuMs, firstCpuMs: cpu() - initCpuMs }));
`;

/** One fresh process: import `file`, invoke its handler once with the JSON in `payloadFile`. */
export async function probe(file: string, payloadFile: string | undefined, env: NodeJS.ProcessEnv) {
  const args = [
    '--input-type=module',
    '-e',
    PROBE,
    pathToFileURL(file).href,
    ...(payloadFile ? [payloadFile] : []),
  ];
  const { code, stdout, stderr } = await spawnOutput(process.execPath, args, { cwd: REPO_ROOT, env });
  if (code !== 0) throw new Error(`cold probe of ${file} exited ${code}: ${stderr.slice(-1500)}`);
  try {
    return JSON.parse(stdout) as ColdSample;
  } catch (error) {
    throw new Error(`cold probe of ${file} printed ${stdout.slice(0, 500)}`, { cause: error });
  }
}

export interface ProbeTarget {
  name: string;
  file: string;
  /** The step's input, written fresh before each probe (a new execution id: Notify and Audit act once per run). */
  payload?: () => unknown;
}

/** Medians over the rounds; coldCpuMs = init + first invocation. */
export type ColdResult = ColdSample & { name: string; rounds: number; coldCpuMs: number };

/** `rounds` measured rounds (plus one warm-up), targets interleaved within each round. */
export async function measureColdStarts(
  targets: readonly ProbeTarget[],
  rounds: number,
  env: NodeJS.ProcessEnv,
): Promise<ColdResult[]> {
  const dir = join(SCRATCH, 'payloads');
  mkdirSync(dir, { recursive: true });
  const samples = new Map<string, ColdSample[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const t of targets) {
      const payloadFile = t.payload ? join(dir, `${t.name}.json`) : undefined;
      if (payloadFile) writeFileSync(payloadFile, JSON.stringify(t.payload?.()));
      const sample = await probe(t.file, payloadFile, env);
      if (round > 0) samples.get(t.name)?.push(sample);
    }
  }
  return targets.map((t) => {
    const s = samples.get(t.name) ?? [];
    return {
      name: t.name,
      rounds,
      initCpuMs: median(s.map((x) => x.initCpuMs)),
      firstCpuMs: median(s.map((x) => x.firstCpuMs)),
      coldCpuMs: median(s.map((x) => x.initCpuMs + x.firstCpuMs)),
    };
  });
}

/** A captured step input with its execution id made unique, so a step that acts once per run acts again. */
export function freshExecution(payload: unknown, n: number): unknown {
  const text = JSON.stringify(payload);
  const id = /"execution":\{"id":"([^"]+)"/.exec(text)?.[1];
  return id ? JSON.parse(text.split(id).join(`${id}-cold-${n}`)) : payload;
}

export interface StepColdStart {
  step: StepName;
  bytes: number;
  /** The SDK packages of its floor (what the step called). */
  floor: string[];
  /** The operations the step sent, which its floor sends too. */
  operations: string[];
  cold: ColdResult;
  floorCold: ColdResult;
  /** cold CPU (init + first invocation) / the floor's */
  ratio: number;
}

/**
 * Bundles each step that ran in a captured run (`payloads`, `operations` from CallCounter), writes its floor, and
 * measures both. `root` is the code measured (default this repository; the benchmark measured the code before
 * issue 19 from an export of that commit), `externals` its bundling's.
 */
export async function coldStarts(options: {
  payloads: readonly { step: StepName; payload: unknown }[];
  operations: Partial<Record<StepName, SentOperation[]>>;
  entries: Record<StepName, string>;
  env: NodeJS.ProcessEnv;
  rounds: number;
  root?: string;
  externals?: string[];
  label?: string;
}): Promise<StepColdStart[]> {
  const root = options.root ?? REPO_ROOT;
  const dir = join(SCRATCH, `cold-${options.label ?? 'now'}`);
  const steps: StepName[] = [];
  for (const { step } of options.payloads) if (!steps.includes(step)) steps.push(step);
  const built = [];
  const targets: ProbeTarget[] = [];
  for (const step of steps) {
    const file = join(dir, step, 'index.mjs');
    const bytes = await bundle(join(root, options.entries[step]), file, options.externals ?? EXTERNALS);
    const sent = options.operations[step] ?? [];
    const floor = floorPackages(sent, file);
    const floorFile = join(dir, `${step}-floor`, 'index.mjs');
    writeFloor(floorFile, sent, floor);
    const captured = options.payloads.find((p) => p.step === step)?.payload;
    let n = 0;
    targets.push(
      { name: step, file, payload: () => freshExecution(captured, n++) },
      { name: `${step}-floor`, file: floorFile },
    );
    const operations = sent.map((o) => o.command.replace(/Command$/, ''));
    built.push({ step, bytes, floor: floor.map((p) => p.name), operations });
  }
  const results = await measureColdStarts(targets, options.rounds, options.env);
  return built.map((b) => {
    const cold = results.find((r) => r.name === b.step) as ColdResult;
    const floorCold = results.find((r) => r.name === `${b.step}-floor`) as ColdResult;
    return { ...b, cold, floorCold, ratio: cold.coldCpuMs / floorCold.coldCpuMs };
  });
}
