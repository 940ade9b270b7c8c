/**
 * `trailguard spokes`: the hub's StackSet instances (CloudFormation ListStackInstances on the StackSet named by
 * the hub stack's `SpokeStackSetId` output), one line per account and region, so that an account or region whose
 * spoke failed (an opt-in region not enabled, an SCP denying the region, a suspended account, a role name taken)
 * is seen at once. The rollout tolerates every failed instance (infra/constructs/spoke-stack-set.ts), so this is
 * where they show. `--call-as` as the hub's `StackSetCallAs` parameter.
 */
import {
  DescribeStacksCommand,
  ListStackInstancesCommand,
  type Stack,
  type StackInstanceSummary,
} from '@aws-sdk/client-cloudformation';
import { type Command, Option } from 'commander';
import { DEFAULT_STACK_NAME } from '../../../infra/stack-name.js';
import { type AwsClients, createClients, MissingRegionError } from '../../aws/clients.js';
import { DeployedExecutionError, DeployedStackError } from '../../aws/deployed-workflow.js';
import { readStackOutput } from '../../aws/stack-outputs.js';
import { awsErrorName } from '../../domain/errors.js';
import { type CliIo, EXIT, formatTable, setExitCode, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';

/** The hub stack's output naming its StackSet (infra/stacks/trailguard-stack.ts). */
export const STACK_SET_OUTPUT = 'SpokeStackSetId';

export interface SpokeInstance {
  account: string;
  region: string;
  /** CURRENT, OUTDATED or INOPERABLE (StackInstance Status). */
  status: string;
  /** SUCCEEDED, FAILED, CANCELLED, PENDING, RUNNING, SKIPPED_SUSPENDED_ACCOUNT, FAILED_IMPORT (DetailedStatus). */
  detailedStatus: string | null;
  reason: string | null;
  /** The instance's spoke works: status CURRENT and, when given, detailed status SUCCEEDED. */
  enrolled: boolean;
}

/** The instances of the StackSet, every page. */
export async function listSpokeInstances(
  clients: AwsClients,
  stackSetName: string,
  callAs: 'SELF' | 'DELEGATED_ADMIN',
): Promise<SpokeInstance[]> {
  const summaries: StackInstanceSummary[] = [];
  let nextToken: string | undefined;
  do {
    try {
      const out = await clients.cloudFormation().send(
        new ListStackInstancesCommand({
          StackSetName: stackSetName,
          CallAs: callAs,
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      summaries.push(...(out.Summaries ?? []));
      nextToken = out.NextToken;
    } catch (error) {
      throw new DeployedExecutionError(
        `ListStackInstances ${stackSetName} (call as ${callAs}) in ${clients.defaultRegion} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  } while (nextToken);
  return summaries
    .map((s) => {
      const detailed = s.StackInstanceStatus?.DetailedStatus ?? null;
      const status = s.Status ?? 'UNKNOWN';
      return {
        account: s.Account ?? '-',
        region: s.Region ?? '-',
        status,
        detailedStatus: detailed,
        reason: s.StatusReason ?? null,
        enrolled: status === 'CURRENT' && (detailed === null || detailed === 'SUCCEEDED'),
      };
    })
    .sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
}

export function registerSpokes(program: Command, io: CliIo): void {
  program
    .command('spokes')
    .description(
      "List the hub's spoke StackSet instances per account and region; failed ones (not enrolled) first in mind.",
    )
    .option(
      '--stack <name>',
      `the hub stack whose SpokeStackSetId output names the StackSet (default ${DEFAULT_STACK_NAME})`,
    )
    .option('--region <region>', "the hub's region (default: the configuration's hubRegion, else AWS_REGION)")
    .option('--config <file>', 'JSON configuration file (its hubRegion)')
    .addOption(
      new Option(
        '--call-as <who>',
        "as the hub's StackSetCallAs parameter: DELEGATED_ADMIN (a delegated administrator) or SELF (the management account)",
      )
        .choices(['DELEGATED_ADMIN', 'SELF'])
        .default('DELEGATED_ADMIN'),
    )
    .option('--failed', 'only the instances that are not enrolled')
    .option('--json', 'print one JSON document: the StackSet and its instances')
    .addHelpText(
      'after',
      `
An instance is enrolled when its status is CURRENT and its detailed status SUCCEEDED; any other (FAILED,
SKIPPED_SUSPENDED_ACCOUNT, OUTDATED, INOPERABLE, ...) means that account and region has no working spoke: see
docs/operations.md, "When a spoke is missing".
Exit codes: 0 every instance enrolled; 1 some are not; 2 usage, configuration or a stack without a StackSet;
3 an AWS call failed.`,
    )
    .action(
      async (
        options: {
          stack?: string;
          region?: string;
          config?: string;
          callAs: 'SELF' | 'DELEGATED_ADMIN';
          failed?: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const env = io.env ?? process.env;
        const config = options.config ? await loadConfigFile(options.config) : undefined;
        const region = options.region ?? config?.hubRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
        if (!region) {
          throw new MissingRegionError(
            'no hub region: pass --region, set hubRegion in the configuration, or AWS_REGION',
          );
        }
        const clients = createClients({ defaultRegion: region });
        const stackName = options.stack ?? DEFAULT_STACK_NAME;
        let stackSet: string;
        try {
          stackSet = await readStackOutput(clients, stackName, STACK_SET_OUTPUT);
        } catch (error) {
          if (error instanceof DeployedStackError) throw new UsageError(error.message, { cause: error });
          throw error;
        }
        const instances = await listSpokeInstances(clients, stackSet, options.callAs);
        const shown = options.failed ? instances.filter((i) => !i.enrolled) : instances;
        const notEnrolled = instances.filter((i) => !i.enrolled).length;
        if (options.json) {
          io.stdout.write(`${JSON.stringify({ stackSet, region, instances: shown, notEnrolled })}\n`);
        } else {
          io.stdout.write(
            `${formatTable(
              ['ACCOUNT', 'REGION', 'SPOKE', 'STATUS', 'DETAILED', 'REASON'],
              shown.map((i) => [
                i.account,
                i.region,
                i.enrolled ? 'enrolled' : 'not-enrolled',
                i.status,
                i.detailedStatus ?? '-',
                i.reason ?? '',
              ]),
            )}\n\n${instances.length} instance(s) of ${stackSet}; ${notEnrolled} not enrolled\n`,
          );
        }
        setExitCode(command, notEnrolled > 0 ? EXIT.NOT_COMPLIANT : EXIT.OK);
      },
    );
}

/**
 * The hub's spoke instances that are not enrolled, from the deployed hub stack (`stackName` in the clients'
 * region): its `SpokeStackSetId` output and its `StackSetCallAs` parameter. Undefined when there is no such
 * stack or it has no StackSet (an emulator, a hub deployed without one): nothing to tell.
 */
export async function notEnrolledSpokes(
  clients: AwsClients,
  stackName: string,
): Promise<SpokeInstance[] | undefined> {
  let stack: Stack | undefined;
  try {
    const out = await clients.cloudFormation().send(new DescribeStacksCommand({ StackName: stackName }));
    stack = out.Stacks?.[0];
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/i.test((error as Error).message)) {
      return undefined;
    }
    throw new DeployedExecutionError(
      `DescribeStacks ${stackName} in ${clients.defaultRegion} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const stackSet = stack?.Outputs?.find((o) => o.OutputKey === STACK_SET_OUTPUT)?.OutputValue;
  if (!stackSet) return undefined;
  const callAs = stack?.Parameters?.find((p) => p.ParameterKey === 'StackSetCallAs')?.ParameterValue;
  const instances = await listSpokeInstances(
    clients,
    stackSet,
    callAs === 'SELF' ? 'SELF' : 'DELEGATED_ADMIN',
  );
  return instances.filter((i) => !i.enrolled);
}
