/**
 * `trailguard spokes` (services/cli/commands/spokes.ts) with the CloudFormation client mocked
 * (aws-sdk-client-mock): moto does not model a service-managed StackSet's instances and their detailed statuses.
 * What is checked: the StackSet comes from the hub stack's SpokeStackSetId output, every page is read with the
 * given call-as, and an instance is enrolled only when CURRENT and SUCCEEDED.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackInstancesCommand,
  type StackInstanceSummary,
} from '@aws-sdk/client-cloudformation';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../services/cli/main.js';
import type { CliIo } from '../../../services/cli/output.js';

const REGION = 'eu-west-1';
const STACK_SET = 'Trailguard-spoke:0f1e2d3c-aaaa-bbbb-cccc-000011112222';

let cfn: AwsClientStub<CloudFormationClient>;
beforeEach(() => {
  cfn = mockClient(CloudFormationClient);
});
afterEach(() => cfn.restore());

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env: { AWS_REGION: REGION },
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const instance = (
  account: string,
  region: string,
  status: string,
  detailed?: string,
  reason?: string,
): StackInstanceSummary =>
  ({
    Account: account,
    Region: region,
    Status: status,
    ...(detailed ? { StackInstanceStatus: { DetailedStatus: detailed } } : {}),
    ...(reason ? { StatusReason: reason } : {}),
  }) as StackInstanceSummary;

describe('trailguard spokes', () => {
  it('lists every instance of the hub’s StackSet, failed ones as not-enrolled, exit 1', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Trailguard',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'SpokeStackSetId', OutputValue: STACK_SET }],
        },
      ],
    });
    cfn
      .on(ListStackInstancesCommand)
      .resolvesOnce({
        Summaries: [
          instance('111122223333', 'us-east-1', 'CURRENT', 'SUCCEEDED'),
          instance('444455556666', 'ap-east-1', 'OUTDATED', 'FAILED', 'Region ap-east-1 is not enabled'),
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Summaries: [instance('777788889999', 'us-east-1', 'INOPERABLE', 'SKIPPED_SUSPENDED_ACCOUNT')],
      });
    const run = await cli(['spokes', '--call-as', 'SELF', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as { stackSet: string; notEnrolled: number; instances: unknown[] };
    expect(doc.stackSet).toBe(STACK_SET);
    expect(doc.notEnrolled).toBe(2);
    expect(doc.instances).toEqual([
      expect.objectContaining({ account: '111122223333', enrolled: true }),
      expect.objectContaining({
        account: '444455556666',
        region: 'ap-east-1',
        detailedStatus: 'FAILED',
        reason: 'Region ap-east-1 is not enabled',
        enrolled: false,
      }),
      expect.objectContaining({ account: '777788889999', status: 'INOPERABLE', enrolled: false }),
    ]);
    const calls = cfn.commandCalls(ListStackInstancesCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      expect.objectContaining({ StackSetName: STACK_SET, CallAs: 'SELF' }),
      expect.objectContaining({ StackSetName: STACK_SET, CallAs: 'SELF', NextToken: 'page-2' }),
    ]);
    cfn.on(ListStackInstancesCommand).resolves({
      Summaries: [
        instance('111122223333', 'us-east-1', 'CURRENT', 'SUCCEEDED'),
        instance('444455556666', 'ap-east-1', 'OUTDATED', 'FAILED'),
      ],
    });
    const failedOnly = await cli(['spokes', '--failed']);
    expect(failedOnly.stdout).not.toContain('111122223333');
    expect(failedOnly.stdout).toMatch(/444455556666 +ap-east-1 +not-enrolled/);
  });

  it('a stack without the SpokeStackSetId output (not a hub with a StackSet) exits 2 with one line', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'Trailguard', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [] },
      ],
    });
    const run = await cli(['spokes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^trailguard: stack "Trailguard" in eu-west-1 has no SpokeStackSetId output/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
