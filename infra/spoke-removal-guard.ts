/**
 * No organization-wide deletion by accident. A hub's StackSet deploys every guarded account's spoke and
 * remediation role; a deploy of the same stack name from a configuration without the StackSet (no `accounts`:
 * a single-account stack; or `spokeStackSet` false) would remove it, and CloudFormation would delete every
 * account's spoke with it. Two layers stop that:
 *
 * 1. In the template: the StackSet has `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain` unless the
 *    configuration says `allowSpokeRemoval: true` (infra/constructs/spoke-stack-set.ts). CloudFormation then keeps
 *    the StackSet, and every stack instance, when it leaves the template or the hub stack is deleted
 *    (CloudFormation User Guide, "DeletionPolicy attribute"; the policy applied is the one last deployed, so
 *    removing the spokes on purpose takes two deploys: docs/operations.md, "Uninstall"). This holds for every
 *    way of deploying, `cdk deploy --app cdk.out` and `aws cloudformation deploy` included.
 * 2. At synth (infra/bin/app.ts, what `cdk deploy` runs): the deployed stack's recorded shape is its outputs; a
 *    stack with the `SpokeStackSetId` output is a hub with a StackSet. When the app about to be deployed has no
 *    StackSet under that name and region, synth refuses with one line, unless `allowSpokeRemoval: true`. Without
 *    credentials or network (`cdk synth` needs neither) the lookup is skipped with a warning: nothing can be
 *    deployed then, and layer 1 still holds.
 */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { Token } from 'aws-cdk-lib';
import type { AwsClients } from '../services/aws/clients.js';
import type { BuiltApp } from './app.js';

/** The hub stack's output naming its StackSet: its presence records that the deployed stack is a hub with one. */
export const STACK_SET_OUTPUT = 'SpokeStackSetId';

/** The deploy would remove a deployed hub's StackSet (and every spoke with it). */
export class SpokeRemovalError extends Error {
  override readonly name = 'SpokeRemovalError';
}

/** The lookup of a deployed stack could not be made (no credentials, no network): the guard is skipped. */
export class StackLookupUnavailableError extends Error {
  override readonly name = 'StackLookupUnavailableError';
}

/** A deployed stack's outputs by key; undefined when there is no such stack. */
export type DeployedOutputsLookup = (
  stackName: string,
  region: string,
) => Promise<Record<string, string> | undefined>;

/**
 * DescribeStacks in the region: the stack's outputs, undefined when it does not exist. An error without an HTTP
 * answer (no credentials, no network) is StackLookupUnavailableError; any other AWS error is thrown as it is (a
 * deployer who cannot describe the stack cannot deploy it either).
 */
export function cloudFormationOutputs(clientsIn: (region: string) => AwsClients): DeployedOutputsLookup {
  return async (stackName, region) => {
    try {
      const { Stacks: stacks } = await clientsIn(region)
        .cloudFormation()
        .send(new DescribeStacksCommand({ StackName: stackName }));
      const stack = stacks?.[0];
      if (!stack) return undefined;
      return Object.fromEntries(
        (stack.Outputs ?? []).flatMap((o) => (o.OutputKey ? [[o.OutputKey, o.OutputValue ?? '']] : [])),
      );
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      if (e.name === 'ValidationError' && /does not exist/i.test(e.message)) return undefined;
      if (e.$metadata?.httpStatusCode === undefined) {
        throw new StackLookupUnavailableError(
          `cannot look up stack ${stackName} in ${region}: ${e.name}: ${e.message}`,
          { cause: error },
        );
      }
      throw error;
    }
  };
}

/**
 * Refuses (SpokeRemovalError) when the app's guardrail stack has no StackSet while the stack deployed under its
 * name, in its region (the stack's pinned region, else `region`: the CLI's), is a hub with one, unless the
 * configuration says `allowSpokeRemoval: true`. Returns what it checked, for a log line.
 */
export async function guardSpokeRemoval(
  built: Pick<BuiltApp, 'stack'>,
  lookup: DeployedOutputsLookup,
  region?: string,
): Promise<'has-stack-set' | 'allowed' | 'no-region' | 'not-a-hub' | 'not-deployed'> {
  const { stack } = built;
  if (stack.spokeStackSet) return 'has-stack-set';
  if (stack.config.allowSpokeRemoval) return 'allowed';
  const where = Token.isUnresolved(stack.region) ? region : stack.region;
  if (!where) return 'no-region';
  const outputs = await lookup(stack.stackName, where);
  if (!outputs) return 'not-deployed';
  const stackSetId = outputs[STACK_SET_OUTPUT];
  if (!stackSetId) return 'not-a-hub';
  const why = stack.config.accounts === undefined ? 'no "accounts"' : 'spokeStackSet false';
  throw new SpokeRemovalError(
    `stack ${stack.stackName} in ${where} is an organization hub whose StackSet ${stackSetId} deploys every account's spoke and remediation role; this configuration has no StackSet (${why}), so deploying it would remove them all. Deploy with the hub's configuration (the configuration file, not a -c config override), or set "allowSpokeRemoval": true to remove the spokes on purpose (docs/operations.md, "Uninstall")`,
  );
}
