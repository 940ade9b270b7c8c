/**
 * Bundles and cold starts. Each step's handler is bundled as NodejsFunction bundles it (functions.ts: ESM,
 * minified, node24, the SDK and the layer's Tracer external), then in a fresh Node process: import (init) and one
 * invocation with the input the step got in a real run, against the emulator. Compared in CPU time (Node's start
 * included): it hardly moves with other load, excludes the wait for the emulator (AWS calls are modelled at
 * in-region latencies) and is what a function's memory size scales. The floor of a step imports exactly the SDK
 * packages the step called (and the DynamoDB helper its bundle uses) and makes one call per client: the least any
 * implementation pays. Steps and floors interleaved round by round; medians after one warm-up round.
 */ import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { LAYER_EXTERNALS, REPO_ROOT } from '../infra/constructs/functions.js';
import type { StepName } from '../services/handlers/registry.js';
import { median, spawnOutput } from './stats.js';

export const SCRATCH = join(REPO_ROOT, '.bench-tmp');
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";
/** What functions.ts gives NodejsFunction: the SDK from the runtime, Tracer from the Powertools layer. */
export const EXTERNALS = ['@aws-sdk/*', ...LAYER_EXTERNALS];

/** Bytes, and the three largest parts by package (`trailguard` is the repository's own code). */
export type Bundle = { bytes: number; largest: string };

export async function bundle(entry: string, outfile: string, externals = EXTERNALS): Promise<Bundle> {
  const result = await build({
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
    metafile: true,
  });
  const byPackage = new Map<string, number>();
  for (const [path, v] of Object.entries(Object.values(result.metafile.outputs)[0]?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'trailguard';
    byPackage.set(name, (byPackage.get(name) ?? 0) + v.bytesInOutput);
  }
  const largest = [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} KB`)
    .join(', ');
  return { bytes: statSync(outfile).size, largest };
}

/** Each SDK client the steps call: its package and one cheap call the floor makes with it. */
const CLIENTS: Record<string, { pkg: string; command: string; input?: string }> = {
  CloudTrailClient: { pkg: '@aws-sdk/client-cloudtrail', command: 'DescribeTrailsCommand' },
  CloudWatchLogsClient: { pkg: '@aws-sdk/client-cloudwatch-logs', command: 'DescribeLogGroupsCommand' },
  CloudWatchClient: { pkg: '@aws-sdk/client-cloudwatch', command: 'DescribeAlarmsCommand' },
  IAMClient: { pkg: '@aws-sdk/client-iam', command: 'ListRolesCommand', input: '{ MaxItems: 1 }' },
  SNSClient: { pkg: '@aws-sdk/client-sns', command: 'ListTopicsCommand' },
  DynamoDBClient: { pkg: '@aws-sdk/client-dynamodb', command: 'ListTablesCommand', input: '{ Limit: 1 }' },
  STSClient: { pkg: '@aws-sdk/client-sts', command: 'GetCallerIdentityCommand' },
  SecurityHubClient: { pkg: '@aws-sdk/client-securityhub', command: 'GetEnabledStandardsCommand' },
};
/** DynamoDB helper packages a bundle may use with its DynamoDB client (document client, marshalling). */
const DYNAMODB_HELPERS = ['@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb'];

/** The SDK packages `clients` come from, plus the DynamoDB helpers the step's bundle names. */
export function floorPackages(clients: readonly string[], bundleFile: string): string[] {
  const text = readFileSync(bundleFile, 'utf8');
  const packages = clients.map((c) => {
    const known = CLIENTS[c];
    if (!known) throw new Error(`no floor call for SDK client ${c}: add it to bench/cold-start.ts CLIENTS`);
    return known.pkg;
  });
  if (clients.includes('DynamoDBClient'))
    packages.push(...DYNAMODB_HELPERS.filter((p) => text.includes(`"${p}"`)));
  return [...new Set(packages)].sort();
}

/** Writes the floor module of a step that calls `clients`. */
export function writeFloor(outfile: string, clients: readonly string[], packages: readonly string[]): void {
  const imports = packages.map((p, i) => `import * as m${i} from '${p}';`);
  const calls = clients.map((c) => {
    const { pkg, command, input } = CLIENTS[c] as (typeof CLIENTS)[string];
    const m = `m${packages.indexOf(pkg)}`;
    return `new ${m}.${c}({}).send(new ${m}.${command}(${input ?? '{}'})).catch(() => undefined)`;
  });
  mkdirSync(join(outfile, '..'), { recursive: true });
  writeFileSync(
    outfile,
    `${imports.join('\n')}\nexport const handler = () => Promise.all([${calls.join(', ')}]);\n`,
  );
}

/** CPU ms at the module's evaluation (since the process started) and of the first invocation; wall ms the same. */
type ColdSample = Record<'initCpuMs' | 'firstCpuMs' | 'initWallMs' | 'firstWallMs', number>;

const PROBE = `
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const { readFileSync } = await import('node:fs');
const payload = process.argv[2] ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : {};
const mod = await import(process.argv[1]);
const initWallMs = performance.now();
const initCpuMs = cpu();
const context = { functionName: 'bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', memoryLimitInMB: '1769', awsRequestId: 'bench', logGroupName: 'bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000 };
await mod.handler(payload, context);
process.stdout.write(JSON.stringify({ initCpuMs, initWallMs, firstCpuMs: cpu() - initCpuMs, firstWallMs: performance.now() - initWallMs }));
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
      let payloadFile: string | undefined;
      if (t.payload) {
        payloadFile = join(dir, `${t.name}.json`);
        writeFileSync(payloadFile, JSON.stringify(t.payload()));
      }
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
      initWallMs: median(s.map((x) => x.initWallMs)),
      firstWallMs: median(s.map((x) => x.firstWallMs)),
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
  largest: string;
  /** The SDK packages of its floor (what the step called). */
  floor: string[];
  cold: ColdResult;
  floorCold: ColdResult;
  /** cold CPU (init + first invocation) / the floor's */
  ratio: number;
}

/**
 * Bundles each step that ran in a captured run (`payloads`, `clients` from CallCounter), writes its floor, and
 * measures both. `root` is the code measured (default this repository; the benchmark measured the code before
 * issue 19 from an export of that commit), `externals` its bundling's.
 */
export async function coldStarts(options: {
  payloads: readonly { step: StepName; payload: unknown }[];
  clients: Partial<Record<StepName, Set<string>>>;
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
    const b = await bundle(join(root, options.entries[step]), file, options.externals ?? EXTERNALS);
    const used = [...(options.clients[step] ?? [])].sort();
    const floor = floorPackages(used, file);
    const floorFile = join(dir, `${step}-floor`, 'index.mjs');
    writeFloor(floorFile, used, floor);
    const captured = options.payloads.find((p) => p.step === step)?.payload;
    let n = 0;
    targets.push(
      { name: step, file, payload: () => freshExecution(captured, n++) },
      { name: `${step}-floor`, file: floorFile },
    );
    built.push({ step, ...b, floor });
  }
  const results = await measureColdStarts(targets, options.rounds, options.env);
  return built.map((b) => {
    const cold = results.find((r) => r.name === b.step) as ColdResult;
    const floorCold = results.find((r) => r.name === `${b.step}-floor`) as ColdResult;
    return { ...b, cold, floorCold, ratio: cold.coldCpuMs / floorCold.coldCpuMs };
  });
}
