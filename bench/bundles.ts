/**
 * Section 3: each Lambda's bundle as CDK builds it, and its cold init in a fresh Node process.
 *
 * The esbuild options are those `NodejsFunction` derives from infra/constructs/functions.ts (aws-cdk-lib's
 * aws-lambda-nodejs bundling.js `buildEsbuildArgs`): `--bundle --target=node<runtime> --platform=node
 * --format=esm --outfile=index.mjs --minify --external:@aws-sdk/* --banner:js=... --main-fields=module,main`,
 * no source map. The target comes from the synthesized functions' Runtime and the externals from the stack's
 * `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` feature flag (unset: only `@aws-sdk/*`), so the
 * benchmark follows the app rather than a copy of it. An empty handler is bundled the same way as the baseline.
 *
 * Cold init: `node --input-type=module -e` imports the bundle in a fresh process (no NODE_OPTIONS) and reports
 * `performance.now()` when the module has been evaluated (time since the process started, Node's own startup
 * included, as Lambda's Init Duration includes the runtime's start), and the import alone. The runs of all
 * bundles are interleaved round by round, so background load spreads evenly; the median of the rounds is
 * reported, after one discarded warm-up round (file-system cache).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FeatureFlags } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { build } from 'esbuild';
import { buildApp } from '../infra/app.js';
import { REPO_ROOT } from '../infra/constructs/functions.js';
import * as registry from '../services/handlers/registry.js';
import { STEP_ENTRIES, type StepName } from '../services/handlers/registry.js';
import { median } from './stats.js';

/** Scratch space for bundles (git-ignored). Under the repository, so `@aws-sdk/*` resolves from node_modules. */
export const SCRATCH = join(REPO_ROOT, '.bench-tmp');

/** What functions.ts gives NodejsFunction's `bundling`, copied; the rest is derived from the app. */
const BANNER = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface CdkEsbuildOptions {
  target: string;
  external: string[];
}

/** The target (from the functions' runtime) and the externals (CDK's default for Node 18+ under this app). */
export function cdkEsbuildOptions(): CdkEsbuildOptions {
  const { stack } = buildApp({ bundling: false, nag: false });
  const runtimes = new Set(
    stack.node
      .findAll()
      .filter((c): c is lambda.Function => c instanceof lambda.Function)
      .map((fn) => fn.runtime.name)
      .filter((name) => name.startsWith('nodejs')),
  );
  if (runtimes.size !== 1) throw new Error(`expected one Node.js runtime, found ${[...runtimes].join(', ')}`);
  const runtime = [...runtimes][0] as string;
  const version = /^nodejs(\d+)/.exec(runtime)?.[1];
  if (!version) throw new Error(`cannot read the Node version of runtime ${runtime}`);
  const excludeSmithy = FeatureFlags.of(stack).isEnabled(cxapi.LAMBDA_NODEJS_SDK_V3_EXCLUDE_SMITHY_PACKAGES);
  return {
    target: `node${version}`,
    external: excludeSmithy ? ['@aws-sdk/*', '@smithy/*'] : ['@aws-sdk/*'],
  };
}

export type BundleName = StepName | 'Sweep' | 'baseline';

export interface Bundle {
  name: BundleName;
  entry: string;
  outfile: string;
  bytes: number;
  /** The largest contributors to the output by package (from esbuild's metafile). */
  largestInputs: { path: string; bytes: number }[];
  /** Bytes of zod's locale files in the output. */
  zodLocaleBytes: number;
  /** The external packages the bundle imports statically (loaded from the runtime's node_modules at init). */
  externalImports: string[];
  /** SDK packages named in the bundle but not imported statically: loaded on first use, in an invocation. */
  lazySdk: string[];
}

async function bundleOne(
  name: BundleName,
  entry: string,
  options: CdkEsbuildOptions,
  outDir: string,
): Promise<Bundle> {
  const outfile = join(outDir, name, 'index.mjs');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    target: options.target,
    platform: 'node',
    format: 'esm',
    outfile,
    minify: true,
    external: options.external,
    banner: { js: BANNER },
    mainFields: ['module', 'main'],
    absWorkingDir: REPO_ROOT,
    logLevel: 'silent',
    // Analysis only: the metafile does not change the bundle.
    metafile: true,
  });
  const output = Object.values(result.metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [path, v] of Object.entries(output?.inputs ?? {})) {
    const key = packageOf(path);
    byPackage.set(key, (byPackage.get(key) ?? 0) + v.bytesInOutput);
  }
  const largestInputs = [...byPackage]
    .map(([path, bytes]) => ({ path, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3);
  const zodLocaleBytes = Object.entries(output?.inputs ?? {})
    .filter(([path]) => /node_modules\/zod\/.*\/locales\//.test(path))
    .reduce((t, [, v]) => t + v.bytesInOutput, 0);
  const externalImports = [
    ...new Set(
      (output?.imports ?? [])
        .filter((i) => i.external && options.external.some((e) => i.path.startsWith(e.replace('*', ''))))
        .map((i) => i.path),
    ),
  ].sort();
  const named = new Set(
    [...readFileSync(outfile, 'utf8').matchAll(/["'`](@aws-sdk\/[\w-]+)["'`]/g)].map((m) => m[1] as string),
  );
  const lazySdk = [...named].filter((p) => !externalImports.includes(p)).sort();
  return {
    name,
    entry,
    outfile,
    bytes: statSync(outfile).size,
    largestInputs,
    zodLocaleBytes,
    externalImports,
    lazySdk,
  };
}

/** The sweep function's entry, when the registry has one (it is not a workflow step). */
function sweepEntry(): string | undefined {
  const entry = (registry as Record<string, unknown>).SWEEP_ENTRY;
  return typeof entry === 'string' ? entry : undefined;
}

/** Bundles every STEP_ENTRIES file and the empty-handler baseline. */
export async function bundleAll(options: CdkEsbuildOptions, steps?: readonly StepName[]): Promise<Bundle[]> {
  const outDir = join(SCRATCH, 'bundles');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const baselineEntry = join(outDir, 'baseline-handler.ts');
  writeFileSync(baselineEntry, 'export const handler = async (_event: unknown) => ({});\n');
  const names = steps ?? (Object.keys(STEP_ENTRIES) as StepName[]);
  const bundles: Bundle[] = [await bundleOne('baseline', baselineEntry, options, outDir)];
  for (const step of names) {
    bundles.push(await bundleOne(step, join(REPO_ROOT, STEP_ENTRIES[step]), options, outDir));
  }
  const sweep = steps ? undefined : sweepEntry();
  if (sweep) bundles.push(await bundleOne('Sweep', join(REPO_ROOT, sweep), options, outDir));
  return bundles;
}

/**
 * A module that imports only the external packages a bundle imports (and exports a handler): its init is the part
 * of the bundle's init spent loading the AWS SDK from node_modules. One per distinct set of externals.
 */
export function externalsProbe(b: Bundle): Bundle {
  const dir = join(SCRATCH, 'bundles', `${b.name}-externals`);
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.mjs');
  writeFileSync(
    outfile,
    `${b.externalImports.map((p) => `import '${p}';`).join('\n')}\nexport const handler = async () => ({});\n`,
  );
  return {
    ...b,
    name: b.name,
    outfile,
    bytes: statSync(outfile).size,
    largestInputs: [],
    zodLocaleBytes: 0,
    lazySdk: [],
  };
}

export interface InitSample {
  /** process start -> module evaluated */
  sinceStartMs: number;
  /** import() alone */
  importMs: number;
  /** CPU time of the process (all threads) when the module has been evaluated: moves little with other load */
  cpuMs: number;
}

const PROBE = `
const started = performance.now();
const mod = await import(process.argv[1]);
const done = performance.now();
if (typeof mod.handler !== 'function') throw new Error('no handler export');
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ sinceStartMs: done, importMs: done - started, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

function probe(file: string): Promise<InitSample> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE, pathToFileURL(file).href], {
      cwd: REPO_ROOT,
      env: { ...env, AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`init probe of ${file} exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out) as InitSample);
      } catch (error) {
        reject(new Error(`init probe of ${file} printed ${out}`, { cause: error }));
      }
    });
  });
}

export interface InitResult {
  name: BundleName;
  samples: InitSample[];
  medianSinceStartMs: number;
  medianImportMs: number;
  medianCpuMs: number;
}

/** `rounds` measured rounds (plus one warm-up), bundles interleaved within each round. */
export async function measureInit(bundles: readonly Bundle[], rounds: number): Promise<InitResult[]> {
  const samples = new Map<string, InitSample[]>(bundles.map((b) => [b.outfile, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const b of bundles) {
      const sample = await probe(b.outfile);
      if (round > 0) samples.get(b.outfile)?.push(sample);
    }
  }
  return bundles.map((b) => {
    const s = samples.get(b.outfile) ?? [];
    return {
      name: b.name,
      samples: s,
      medianSinceStartMs: median(s.map((x) => x.sinceStartMs)),
      medianImportMs: median(s.map((x) => x.importMs)),
      medianCpuMs: median(s.map((x) => x.cpuMs)),
    };
  });
}

/** A metafile input's package (`zod`, `@middy/core`), or `trailguard` for the repository's own code. */
export function packageOf(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m?.[1] ?? 'trailguard';
}

/** The bundle's text starts with the banner: proof the options were applied. */
export function hasBanner(b: Bundle): boolean {
  return readFileSync(b.outfile, 'utf8').startsWith(BANNER.slice(0, 30));
}
