/**
 * `trailguard selftest`: creates a canary trail in each account and region it covers, breaks it four ways and
 * checks that the guardrail fixed each break (services/local/selftest.ts), then removes the canary. Exit 0 when
 * every case was fixed, 1 when any was not (or could not run), 2 on usage or configuration errors, 3 when an
 * AWS call of selftest's own failed.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_STACK_NAME } from '../../../infra/stack-name.js';
import type { Config } from '../../../policies/config.js';
import { parseConfig } from '../../../policies/config.js';
import { CanaryError } from '../../aws/canary.js';
import { type AwsClients, createClients, resolveDefaultRegion } from '../../aws/clients.js';
import { DeployedStackError } from '../../aws/deployed-workflow.js';
import { readStackOutput } from '../../aws/stack-outputs.js';
import { readAccountId } from '../../aws/trail-reader.js';
import { BREAKS, DEFAULT_CASE_TIMEOUT_SECONDS, type SelftestReport } from '../../domain/canary.js';
import { emulatedDelivery } from '../../local/emulator-tolerance.js';
import { isHubConfig } from '../../local/organization.js';
import {
  localEngine,
  runSelftest,
  type SelftestEngine,
  SelftestInterruptedError,
  type SelftestTarget,
} from '../../local/selftest.js';
import { type CliIo, EXIT, formatTable, oneLine, setExitCode, UsageError } from '../output.js';
import { regionCollector } from '../regions.js';
import { loadConfigFile } from './check.js';
import { ENGINES, type Engine } from './engine.js';

interface SelftestOptions {
  config?: string;
  account: string[];
  region: string[];
  engine?: Engine;
  stack?: string;
  json?: boolean;
  timeout: number;
  keep?: boolean;
  ownRoleArn?: string;
  memberRole: string;
  bucket?: string;
}

export const DEFAULT_MEMBER_ROLE = 'OrganizationAccountAccessRole';
/** Per case: the fix and the delivery of one data event (services/domain/canary.ts, CloudTrail's ~5 minutes). */
export const DEFAULT_TIMEOUT_SECONDS = DEFAULT_CASE_TIMEOUT_SECONDS;

const accountCollector = (value: string, previous: string[]): string[] => {
  const ids = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!/^\d{12}$/.test(id)) throw new UsageError(`--account must be a 12-digit account id, not "${id}"`);
  }
  return [...new Set([...previous, ...ids])];
};

export const SELFTEST_HELP = `
What it does: in each account x region (default: the caller's account and region; with --config, its accounts
and regions) it creates a canary trail trailguard-canary-<run> with its own log group, delivery role and bucket
(no management events; one advanced event selector for data events on its own objects only), then breaks it:
${BREAKS.join(', ')}, one at a time, and checks that the guardrail fixed each one by re-reading the canary
itself and finding the run's audit record; then it writes one object and waits for its data event in the
trail's CloudWatch Logs log group (proof of delivery end to end: a case is fixed only when it arrived, else
"delivery not confirmed"). Everything created is removed at the end (also on failure or
Ctrl-C) unless --keep.

Engines: local (default with AWS_ENDPOINT_URL) replays the CloudTrail event each break produces through the
stack's rules and the synthesized workflow in process; deployed waits for the deployed stack to fix the canary
through the real event path. Either way --timeout (seconds) bounds each case, the fix and the delivery.

--json: one JSON document on the last line of stdout:
  {"outcome": "passed"|"failed", "cases": [{"account", "region", "break", "fixed", "seconds", "execution", "missing"}]}

Exit codes:
  0  every case was fixed
  1  some case was not fixed (or could not run: CloudTrail's 5 trails per region)
  2  usage or configuration error
  3  an AWS call of selftest's own failed (the canaries were removed)`;

export function registerSelftest(program: Command, io: CliIo): void {
  program
    .command('selftest')
    .description(
      'Prove the guardrail works where it runs: break a canary trail four ways and check that each break is fixed.',
    )
    .option('--config <file>', 'JSON configuration file (accounts and regions to cover, the audit table)')
    .option(
      '--account <id...>',
      "cover these accounts (default: the configuration's, else the caller's)",
      accountCollector,
      [],
    )
    .option(
      '--region <region...>',
      "cover these regions (default: the configuration's, else the SDK's region)",
      regionCollector((m) => new UsageError(`--region: ${m}`)),
      [],
    )
    .addOption(
      new Option(
        '--engine <engine>',
        'local: replay each break in process; deployed: wait for the deployed stack',
      ).choices(ENGINES),
    )
    .option('--stack <name>', 'the deployed stack (--engine deployed)')
    .option('--json', 'end with one JSON document on the last line of stdout')
    .option(
      '--timeout <seconds>',
      `how long to wait per case for the fix and the delivery of its data event to CloudWatch Logs (default ${DEFAULT_TIMEOUT_SECONDS}: CloudTrail delivers in about 5 minutes on average, not guaranteed)`,
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 3600) {
          throw new UsageError(`--timeout must be a whole number of seconds from 1 to 3600, not "${v}"`);
        }
        return n;
      },
      DEFAULT_TIMEOUT_SECONDS,
    )
    .option(
      '--keep',
      'leave the canaries in place (for inspection); remove them later with a run without --keep',
    )
    .option('--own-role-arn <arn>', "local engine: the guardrail's own role, which the stack's rules exclude")
    .option(
      '--member-role <name>',
      `the role selftest assumes in another account to create and break its canary (default ${DEFAULT_MEMBER_ROLE})`,
      DEFAULT_MEMBER_ROLE,
    )
    .option(
      '--bucket <name>',
      'an existing bucket for the canaries (default: a bucket of the run, removed after)',
    )
    .addHelpText('after', SELFTEST_HELP)
    .action(async (options: SelftestOptions, command: Command) => {
      const env = io.env ?? process.env;
      const engineName: Engine = options.engine ?? (env.AWS_ENDPOINT_URL ? 'local' : 'deployed');
      if (engineName === 'local' && options.stack !== undefined) {
        throw new UsageError('--stack applies to --engine deployed');
      }
      if (engineName === 'deployed' && options.ownRoleArn !== undefined) {
        throw new UsageError(
          '--own-role-arn applies to --engine local (the deployed rules exclude their own roles)',
        );
      }
      if (
        options.ownRoleArn !== undefined &&
        !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(options.ownRoleArn)
      ) {
        throw new UsageError(`--own-role-arn "${options.ownRoleArn}" is not an IAM role ARN`);
      }
      if (!/^[\w+=,.@-]{1,64}$/.test(options.memberRole)) {
        throw new UsageError(`--member-role "${options.memberRole}" is not an IAM role name`);
      }
      const loaded: Config = options.config ? await loadConfigFile(options.config) : parseConfig({});
      const region = resolveDefaultRegion(
        (isHubConfig(loaded) ? loaded.hubRegion : undefined) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      );
      const clients = createClients({ defaultRegion: region });
      // The deployed stack's audit table is its AuditTableName output (a CloudFormation-made name); the
      // emulator's is the configuration's auditTableName.
      const config: Config =
        engineName === 'deployed'
          ? {
              ...loaded,
              auditTableName: await deployedAuditTable(clients, options.stack ?? DEFAULT_STACK_NAME),
            }
          : loaded;
      const caller = await readAccountId(clients).catch((error: unknown) => {
        throw new CanaryError(`GetCallerIdentity: ${(error as Error).message}`, { cause: error });
      });
      const targets = targetsOf(options, config, caller, region);
      const engine = await engineOf(engineName, options, config, clients, region);

      // moto delivers no CloudTrail events: against an emulator selftest stands in for the delivery.
      const deliver = emulatedDelivery(env);
      const controller = new AbortController();
      const onSigint = () => {
        io.stderr.write('trailguard selftest: interrupted; removing the canaries...\n');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        const result = await runSelftest({
          clients,
          config,
          targets,
          callerAccount: caller,
          memberRole: options.memberRole,
          engine,
          timeoutSeconds: options.timeout,
          ...(deliver ? { deliver } : {}),
          ...(options.keep ? { keep: true } : {}),
          ...(options.bucket ? { bucket: options.bucket } : {}),
          signal: controller.signal,
          log: (line) => io.stderr.write(`${oneLine(line)}\n`),
        });
        printReport(io, result.report, options.json === true);
        if (result.kept.length > 0) io.stderr.write(`kept: ${result.kept.join(', ')}\n`);
        setExitCode(command, result.report.outcome === 'passed' ? EXIT.OK : EXIT.NOT_COMPLIANT);
      } catch (error) {
        if (error instanceof SelftestInterruptedError) {
          io.stderr.write(`trailguard: ${error.message}\n`);
          setExitCode(command, EXIT.NOT_COMPLIANT);
          return;
        }
        if (error instanceof CanaryError) {
          io.stderr.write(`trailguard: selftest could not complete: ${oneLine(error.message)}\n`);
          setExitCode(command, EXIT.FAILED);
          return;
        }
        throw error;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

/** The deployed stack's audit table; a missing stack or output is a usage error (exit 2). */
async function deployedAuditTable(clients: AwsClients, stackName: string): Promise<string> {
  try {
    return await readStackOutput(clients, stackName, 'AuditTableName');
  } catch (error) {
    if (error instanceof DeployedStackError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** Accounts x regions: the flags, else the configuration's, else the caller's account and region. */
export function targetsOf(
  options: Pick<SelftestOptions, 'account' | 'region'>,
  config: Config,
  caller: string,
  region: string,
): SelftestTarget[] {
  const configured = Array.isArray(config.accounts) ? config.accounts : undefined;
  if (config.accounts === 'organization' && options.account.length === 0) {
    throw new UsageError('accounts "organization": name the accounts to test with --account');
  }
  const accounts = options.account.length > 0 ? options.account : (configured ?? [caller]);
  const regions = options.region.length > 0 ? options.region : (config.regions ?? [region]);
  return accounts.flatMap((account) => regions.map((r) => ({ account, region: r })));
}

async function engineOf(
  engine: Engine,
  options: SelftestOptions,
  config: Config,
  clients: ReturnType<typeof createClients>,
  region: string,
): Promise<SelftestEngine> {
  if (engine === 'local') {
    return localEngine({
      clients,
      config,
      region,
      ...(options.ownRoleArn ? { ownRoleArn: options.ownRoleArn } : {}),
    });
  }
  const { deployedEngine } = await import('../../local/selftest-deployed.js');
  return deployedEngine({ clients, config, timeoutSeconds: options.timeout });
}

function printReport(io: CliIo, report: SelftestReport, json: boolean): void {
  if (!json) {
    const rows = report.cases.map((c) => [
      `${c.account}/${c.region}`,
      c.break,
      c.fixed ? 'fixed' : 'NOT FIXED',
      c.seconds === null ? '-' : `${c.seconds}s`,
      c.execution ?? '-',
      c.missing ?? '',
    ]);
    io.stdout.write(
      `${formatTable(['where', 'break', 'result', 'seconds', 'execution', 'missing'], rows)}\n`,
    );
    io.stdout.write(`selftest ${report.outcome}\n`);
    return;
  }
  io.stdout.write(`${JSON.stringify(report)}\n`);
}
