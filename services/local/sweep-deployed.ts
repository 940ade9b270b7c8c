/**
 * `trailguard sweep --engine deployed`: the deployed stack's sweep, run now and waited for, read back into the
 * same ReplayResult the in-process sweep gives (so `sweep` prints the same report wherever it ran).
 *
 * - A stack with the `OrganizationSweepStateMachineArn` output (a hub, or a single account with `regions`): one
 *   execution of the organization sweep, exactly what the schedule starts, waited for (it may take up to its
 *   6-hour timeout). Its history gives the targets (ListTargets' answer: the accounts, the regions and the
 *   sweep's id) and each account-region's status (Summarize: swept, not-enrolled, not-enabled or error); the workflow runs it started are the executions of the
 *   stack's state machine named for that sweep id (services/handlers/sweep.ts executionName), each waited for
 *   and read back. The deployed sweep does not report the trails it assessed (its state stays small), so each
 *   target lists no trails, only its runs.
 * - A single account in one region (no organization sweep): the sweep function's core runs here, as `replay
 *   --engine deployed` runs the fan-out (services/local/replay-deployed.ts): it assesses every trail of the
 *   region and starts one execution of the deployed state machine per trail that is not compliant; each is
 *   waited for. The report then lists every trail with its verdict, as locally.
 */
import { randomUUID } from 'node:crypto';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { ConfigInput } from '../../policies/config.js';
import { parseConfig } from '../../policies/config.js';
import type { AwsClients } from '../aws/clients.js';
import {
  DeployedExecutionError,
  DeployedStackError,
  describeUntilDone,
  findDeployedWorkflow,
  readHistory,
  startDeployedExecution,
  type WaitOptions,
  waitForExecution,
} from '../aws/deployed-workflow.js';
import type { StartExecution } from '../aws/execution-starter.js';
import { readStackOutputs } from '../aws/stack-outputs.js';
import { sweepStep } from '../aws/sweep.js';
import { readAccountId } from '../aws/trail-reader.js';
import { parseTrailArn, partitionOf } from '../domain/arns.js';
import { awsErrorName } from '../domain/errors.js';
import { executionName, statusOfCode } from '../domain/sweep.js';
import { combined, type ReplayResult, resultOf, type SweptTarget } from './replay.js';
import { deployedExecutionName } from './replay-deployed.js';

/** The hub stack's output naming the organization sweep (infra/stacks/trailguard-stack.ts). */
export const ORGANIZATION_SWEEP_OUTPUT = 'OrganizationSweepStateMachineArn';

/** The organization sweep's timeout (infra/constructs/organization-sweep.ts), plus a minute. */
export const ORGANIZATION_SWEEP_WAIT_MS = 6 * 3_600_000 + 60_000;

export interface SweepDeployedOptions {
  /** Clients in the stack's region. */
  clients: AwsClients;
  stackName: string;
  /** The configuration of the in-process sweep core (a single account); the deployed functions use their own. */
  config?: ConfigInput;
  /** How the runs are waited for. */
  wait?: WaitOptions;
  /** How the organization sweep is waited for (default: its timeout). */
  sweepWait?: WaitOptions;
  now?: () => Date;
}

/** The run of one workflow execution, with its account and region (from the trail's ARN). */
function runOf(result: ReplayResult): ReplayResult {
  const arn = parseTrailArn(result.trail ?? '');
  return arn ? { ...result, account: arn.account, region: arn.region } : result;
}

/** Runs the deployed sweep now and waits for it and for every workflow run it started. */
export async function sweepDeployed(options: SweepDeployedOptions): Promise<ReplayResult> {
  const outputs = await readStackOutputs(options.clients, options.stackName);
  const workflow = await findDeployedWorkflow(options.clients, options.stackName);
  const organizationSweep = outputs[ORGANIZATION_SWEEP_OUTPUT];
  return organizationSweep
    ? sweepOrganization(organizationSweep, workflow.stateMachineArn, options)
    : sweepRegion(workflow.stateMachineArn, options);
}

/** A single account in one region: the sweep core here, the runs on the deployed state machine. */
async function sweepRegion(stateMachineArn: string, options: SweepDeployedOptions): Promise<ReplayResult> {
  const { clients } = options;
  const now = options.now ?? (() => new Date());
  const region = clients.defaultRegion;
  const account = await readAccountId(clients);
  const started: string[] = [];
  const start: StartExecution = async ({ name, input }) => {
    const execution = await startDeployedExecution(clients, stateMachineArn, name, input);
    started.push(execution.executionArn);
    return execution;
  };
  const event = {
    version: '0',
    id: `cli-${now().getTime().toString(36)}-${randomUUID().slice(0, 8)}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: now().toISOString(),
    region,
    resources: [`arn:${partitionOf(region)}:events:${region}:${account}:rule/trailguard-sweep-cli`],
    detail: {},
  };
  const sweep = await sweepStep({ config: parseConfig(options.config ?? {}), clients }, start)(event);
  const runs = await Promise.all(
    sweep.trails
      .filter((t) => t.execution)
      .map(async (t) =>
        runOf(
          resultOf(await waitForExecution(clients, t.execution?.executionArn ?? '', options.wait), t.trail),
        ),
      ),
  );
  const target: SweptTarget = {
    account,
    region,
    trails: sweep.trails,
    started: sweep.started,
    status: sweep.status ?? 'swept',
    reason: sweep.reason,
  };
  return { ...combined(sweep.reason, runs), targets: [target] };
}

interface Listed {
  id: string;
  accounts: string[];
  regions: string[];
}

/** One account's result in Summarize (infra/constructs/organization-sweep.ts); none: its child failed as a whole. */
interface AccountSummary {
  account?: string;
  failed?: boolean;
  failedRegions?: number;
  error?: string;
  /** One letter per listed region, in their order (STATUS_CODES): with a gap or an error. */
  statuses?: unknown[];
}

/** Why a target is a coverage gap, as the deployed sweep's state tells it (its status only; the log has more). */
export const DEPLOYED_GAP_REASONS = {
  'not-enrolled':
    "not enrolled: the hub could not assume the account's member role (AccessDenied: no spoke there yet, or its role does not trust the hub); `trailguard spokes` lists the StackSet's instances",
  'not-enabled': 'the region is not enabled in this account: nothing there to sweep',
} as const;

/** The organization sweep: one execution, waited for, then the workflow runs it started. */
async function sweepOrganization(
  sweepArn: string,
  stateMachineArn: string,
  options: SweepDeployedOptions,
): Promise<ReplayResult> {
  const { clients } = options;
  const now = options.now ?? (() => new Date());
  const name = deployedExecutionName('sweep-cli', now());
  const { executionArn } = await startDeployedExecution(clients, sweepArn, name, {});
  const { described } = await describeUntilDone(clients, executionArn, {
    timeoutMs: ORGANIZATION_SWEEP_WAIT_MS,
    ...options.sweepWait,
  });
  const history = await readHistory(clients, executionArn);
  const listed = stateOutput<Listed>(history, 'ListTargets', executionArn);
  if (!listed?.id || !Array.isArray(listed.accounts) || !Array.isArray(listed.regions)) {
    throw new DeployedExecutionError(
      `organization sweep ${executionArn} ended ${described.status ?? 'unknown'} before listing its targets: ${described.error ?? ''} ${described.cause ?? ''}`.trim(),
    );
  }
  const summary = stateOutput<{ results?: AccountSummary[] }>(history, 'Summarize', executionArn);
  const runs = await Promise.all(
    (await sweepExecutions(clients, stateMachineArn, listed.id, described.startDate)).map(async (arn) =>
      runOf(resultOf(await waitForExecution(clients, arn, options.wait), arn)),
    ),
  );
  const reported = new Map((summary?.results ?? []).filter((r) => r.account).map((r) => [r.account, r]));
  const targets: SweptTarget[] = listed.accounts.flatMap((account) =>
    listed.regions.map((region, index) => {
      const result = reported.get(account);
      // Summarize keeps each account's id; with a gap or an error, each region's status as a letter (in the order
      // of the listed regions) and the first error, `<region>: <error name>`.
      const [errorRegion, errorName] = (result?.error ?? '').split(': ');
      const coded = statusOfCode(result?.statuses?.[index]);
      // No result for the account: its child execution failed as a whole (an Express child's time limit).
      const unreported = !result && summary !== undefined;
      const status =
        coded ??
        (unreported || (result?.failed && (errorRegion === region || !result.error)) ? 'error' : 'swept');
      const target: SweptTarget = {
        account,
        region,
        trails: [],
        started: runs.filter((r) => r.account === account && r.region === region).length,
        status,
      };
      if (status === 'not-enrolled' || status === 'not-enabled') target.reason = DEPLOYED_GAP_REASONS[status];
      if (status === 'error') {
        target.error = unreported
          ? {
              name: 'SweepAccountUnreported',
              message: `the organization sweep's child execution for account ${account} ended without a result (it failed as a whole, e.g. past an Express execution's 5 minutes): the map run in the Step Functions console lists it`,
            }
          : {
              name: (errorRegion === region && errorName) || 'SweepTargetFailed',
              message: `the organization sweep could not sweep account ${account} in ${region} (${result?.failedRegions ?? 1} region(s) failed; the sweep function's log group has each error)`,
            };
      }
      return target;
    }),
  );
  const reason = `organization sweep ${executionArn} ${described.status?.toLowerCase() ?? 'ended'}: ${listed.accounts.length} account(s) x ${listed.regions.length} region(s)`;
  return { ...combined(reason, runs), targets };
}

/** The output of the named state's task (its TaskSucceeded / PassStateExited), parsed; undefined if never reached. */
function stateOutput<T>(
  history: Awaited<ReturnType<typeof readHistory>>,
  state: string,
  executionArn: string,
): T | undefined {
  let inState = false;
  for (const event of history) {
    if (event.stateEnteredEventDetails?.name) inState = event.stateEnteredEventDetails.name === state;
    const output =
      (inState &&
        (event.taskSucceededEventDetails?.output ?? event.lambdaFunctionSucceededEventDetails?.output)) ||
      (event.stateExitedEventDetails?.name === state ? event.stateExitedEventDetails.output : undefined);
    if (output === undefined) continue;
    try {
      const parsed = JSON.parse(output) as unknown;
      // A task with resultPath keeps its result in the state; a task's own output is the function's answer.
      return ((parsed as { listed?: T }).listed ?? parsed) as T;
    } catch (error) {
      throw new DeployedExecutionError(
        `organization sweep ${executionArn}: the output of ${state} is not JSON`,
        {
          cause: error,
        },
      );
    }
  }
  return undefined;
}

/**
 * The workflow executions the sweep `id` started (names `sweep-<id>-<trail hash>`), oldest first. ListExecutions
 * lists the newest first: the listing stops at the first execution started before the sweep (`since`).
 */
async function sweepExecutions(
  clients: AwsClients,
  stateMachineArn: string,
  id: string,
  since: Date | undefined,
): Promise<string[]> {
  const prefix = executionName('sweep', id, '').replace(/-[0-9a-f]{16}$/, '-');
  const found: string[] = [];
  let nextToken: string | undefined;
  do {
    try {
      const out = await clients.sfn().send(
        new ListExecutionsCommand({
          stateMachineArn,
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      let older = false;
      for (const e of out.executions ?? []) {
        if (since && e.startDate && e.startDate < since) older = true;
        else if (e.name?.startsWith(prefix) && e.executionArn) found.push(e.executionArn);
      }
      nextToken = older ? undefined : out.nextToken;
    } catch (error) {
      if (error instanceof DeployedStackError) throw error;
      throw new DeployedExecutionError(
        `ListExecutions ${stateMachineArn} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  } while (nextToken);
  return found.reverse();
}
