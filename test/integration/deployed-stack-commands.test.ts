/**
 * Commands against a deployed stack found from its outputs (CloudFormation DescribeStacks on stacks created in
 * moto): `trailguard audit` reads the stack's AuditTableName, and `trailguard sweep --engine deployed`
 * (services/local/sweep-deployed.ts). A single account: the stack in moto
 * (its StateMachineArn output), the sweep core here assessing moto's trails, and one execution of the deployed
 * state machine per trail that is not compliant; moto never finishes an execution, so the test stops them
 * (StopExecution) while the command waits, and each run reads back as moto's ABORTED execution. The
 * organization sweep runs Lambda tasks, which moto cannot: that path is tested with the SFN client mocked
 * (aws-sdk-client-mock), and its test says so.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackInstancesCommand,
  type StackInstanceSummary,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable } from '../../services/aws/audit-store.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { sweepReport } from '../../services/cli/commands/sweep.js';
import { main } from '../../services/cli/main.js';
import type { CliIo } from '../../services/cli/output.js';
import { executionName } from '../../services/domain/sweep.js';
import { DEPLOYED_GAP_REASONS, sweepDeployed } from '../../services/local/sweep-deployed.js';
import { workflowDefinition } from '../../services/local/workflow-runner.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../support/aws.js';
import { remediatedContext, TRAIL_ARN } from '../support/run-contexts.js';
import { seedCompliantTrail, seedTrail } from '../support/seed.js';

let clients: AwsClients;
const STACK = 'trailguard-sweep-deployed-test';
const MACHINE = 'trailguard-sweep-deployed-workflow';
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${MACHINE}`;
const SWEEP_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:trailguard-organization-sweep`;
const trailArn = (name: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;

let definition: string;
beforeAll(async () => {
  definition = JSON.stringify(await workflowDefinition({ region: REGION, accountId: ACCOUNT }));
});
beforeEach(async () => {
  await resetEmulator();
  clients = testClients();
});

async function createStack(outputs: Record<string, unknown> = {}): Promise<void> {
  const template = {
    Resources: {
      Workflow: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: MACHINE,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/trailguard-workflow`,
          DefinitionString: definition,
        },
      },
    },
    Outputs: {
      StateMachineArn: { Value: { Ref: 'Workflow' } },
      ...Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
    },
  };
  await clients
    .cloudFormation()
    .send(new CreateStackCommand({ StackName: STACK, TemplateBody: JSON.stringify(template) }));
}

/** A wait whose every pause stops the running executions of the workflow (moto never ends them itself). */
function stoppingWait() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      const { executions = [] } = await clients
        .sfn()
        .send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, statusFilter: 'RUNNING' }));
      for (const e of executions) {
        await clients.sfn().send(new StopExecutionCommand({ executionArn: e.executionArn }));
      }
    },
  };
}

async function cli(args: string[], env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env,
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The deployed sweep's history as Step Functions records it: ListTargets' output, then Summarize's. */
function sweepHistory(started: Date, targets: unknown, summary: unknown): HistoryEvent[] {
  return [
    {
      type: 'TaskStateEntered',
      id: 2,
      timestamp: started,
      stateEnteredEventDetails: { name: 'ListTargets', input: '{}' },
    },
    {
      type: 'TaskSucceeded',
      id: 3,
      timestamp: started,
      taskSucceededEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        output: JSON.stringify(targets),
      },
    },
    {
      type: 'PassStateExited',
      id: 9,
      timestamp: started,
      stateExitedEventDetails: { name: 'Summarize', output: JSON.stringify(summary) },
    },
  ];
}

describe('audit against a deployed stack', () => {
  it('without AWS_ENDPOINT_URL the table is the stack’s AuditTableName output (--stack, default Trailguard)', async () => {
    await ensureAuditTable(clients, 'audit-table-from-the-stack');
    await createStack({ AuditTableName: 'audit-table-from-the-stack' });
    // The configuration's default name (trailguard-audit) does not exist: the output's table is the one read.
    const read = await cli(['audit', '--stack', STACK, '--json'], { AWS_REGION: REGION });
    expect(read).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    const byDefault = await cli(['audit', '--json'], { AWS_REGION: REGION });
    expect(byDefault.code).toBe(2);
    expect(byDefault.stderr).toMatch(
      new RegExp(`^trailguard: stack "Trailguard" does not exist in ${REGION}`),
    );
    const both = await cli(['audit', '--stack', STACK, '--table', 'x'], { AWS_REGION: REGION });
    expect(both.code).toBe(2);
  });
});

describe('sweep on the deployed stack of a single account', () => {
  it('assesses every trail here, starts one deployed run per non-compliant trail and waits for each', async () => {
    await seedCompliantTrail(clients, 'fine');
    await seedTrail(clients, 'broken', { breaks: { logGroupMissing: true } });
    await createStack();
    const result = await sweepDeployed({
      clients,
      stackName: STACK,
      wait: stoppingWait(),
      now: () => new Date('2026-12-01T00:00:00Z'),
    });
    const report = sweepReport(result);
    expect(report.targets).toHaveLength(1);
    expect(report.targets[0]).toMatchObject({ account: ACCOUNT, region: REGION, started: 1 });
    expect(Object.fromEntries(report.targets[0]?.trails.map((t) => [t.trail, t.verdict]) ?? [])).toEqual({
      [trailArn('fine')]: 'compliant',
      [trailArn('broken')]: 'non-compliant',
    });
    // moto's run, stopped while waited for: read back as failed, as an aborted execution is.
    expect(report.runs).toEqual([
      expect.objectContaining({
        account: ACCOUNT,
        region: REGION,
        outcome: 'failed',
        trail: trailArn('broken'),
      }),
    ]);
    expect(report.counts.failed).toBe(1);
    const { executions = [] } = await clients
      .sfn()
      .send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN }));
    expect(executions.map((e) => e.name)).toEqual([
      expect.stringMatching(/^sweep-cli-[0-9a-z]+-[0-9a-f]{8}-[0-9a-f]{16}$/),
    ]);
  });

  it('the CLI: a stack that does not exist exits 2 with one line naming it and the region', async () => {
    const run = await cli(['sweep', '--stack', 'missing-stack'], { AWS_REGION: REGION });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(`^trailguard: stack "missing-stack" does not exist in ${REGION}[^\\n]*\\n$`),
    );
  });
});

describe('sweep on a deployed hub (SFN client mocked: moto cannot run the organization sweep’s Lambda tasks)', () => {
  let sfnMock: AwsClientStub<SFNClient> | undefined;
  afterEach(() => {
    sfnMock?.restore();
    sfnMock = undefined;
  });

  it('starts the organization sweep, reads its targets and failures, and waits for the runs it started', async () => {
    const MEMBER = '444455556666';
    await createStack({ OrganizationSweepStateMachineArn: SWEEP_ARN });
    sfnMock = mockClient(SFNClient);
    const started = new Date('2026-12-01T00:00:00Z');
    const sweepExecution = `${SWEEP_ARN.replace(':stateMachine:', ':execution:')}:sweep-cli-x`;
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: sweepExecution, startDate: started });
    const run = (name: string) => `${MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    const ours = executionName('sweep', 'sweep-id-1', TRAIL_ARN);
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        {
          executionArn: run(ours),
          name: ours,
          stateMachineArn: MACHINE_ARN,
          status: 'SUCCEEDED',
          startDate: new Date(started.getTime() + 5_000),
        },
        {
          executionArn: run('replay-other'),
          name: 'replay-other',
          stateMachineArn: MACHINE_ARN,
          status: 'SUCCEEDED',
          startDate: new Date(started.getTime() + 1_000),
        },
        {
          executionArn: run('sweep-old'),
          name: executionName('sweep', 'sweep-id-1', 'x'),
          stateMachineArn: MACHINE_ARN,
          status: 'SUCCEEDED',
          startDate: new Date(started.getTime() - 1_000),
        },
      ],
    });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: sweepExecution })
      .resolves({ status: 'FAILED', startDate: started, error: 'TrailguardSweepIncomplete' } as never);
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: run(ours) })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(remediatedContext()) } as never);
    const history = sweepHistory(
      started,
      { id: 'sweep-id-1', accounts: [ACCOUNT, MEMBER], regions: [REGION] },
      {
        accounts: 2,
        regions: 1,
        reported: 2,
        anyFailed: true,
        results: [
          { account: ACCOUNT, failed: false },
          { account: MEMBER, failed: true, failedRegions: 1, error: `${REGION}: AccountAccessError` },
        ],
      },
    );
    sfnMock
      .on(GetExecutionHistoryCommand, { executionArn: sweepExecution })
      .resolves({ events: history })
      .on(GetExecutionHistoryCommand, { executionArn: run(ours) })
      .resolves({ events: [] });
    const result = await sweepDeployed({ clients, stackName: STACK, wait: { sleep: async () => {} } });
    const report = sweepReport(result);
    expect(JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '')).toEqual({});
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.stateMachineArn).toBe(SWEEP_ARN);
    expect(report.targets).toEqual([
      { account: ACCOUNT, region: REGION, trails: [], started: 1, status: 'swept' },
      {
        account: MEMBER,
        region: REGION,
        trails: [],
        started: 0,
        status: 'error',
        error: {
          name: 'AccountAccessError',
          message: expect.stringContaining(`account ${MEMBER} in ${REGION}`),
        },
      },
    ]);
    expect(report.runs).toEqual([
      expect.objectContaining({ outcome: 'remediated', trail: TRAIL_ARN, account: ACCOUNT }),
    ]);
  });
  it('reads each account-region’s status back from Summarize: swept, not-enrolled and not-enabled (gaps, with their reason) and error', async () => {
    const MEMBER = '444455556666';
    const SECOND = REGION === 'us-east-1' ? 'eu-west-1' : 'us-east-1';
    /** An account whose child execution failed as a whole: no result in Summarize. */
    const UNREPORTED = '777788889999';
    await createStack({ OrganizationSweepStateMachineArn: SWEEP_ARN });
    sfnMock = mockClient(SFNClient);
    const started = new Date('2026-12-01T00:00:00Z');
    const sweepExecution = `${SWEEP_ARN.replace(':stateMachine:', ':execution:')}:sweep-cli-y`;
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: sweepExecution, startDate: started });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: sweepExecution })
      .resolves({ status: 'FAILED', startDate: started, error: 'TrailguardSweepIncomplete' } as never);
    // The Summarize output the synthesized states produce (test/infra/organization.test.ts runs them): a letter
    // per region, in the order of the listed regions, for each account with a gap or an error.
    const summarize = {
      accounts: 3,
      regions: 2,
      reported: 2,
      anyFailed: true,
      results: [
        { account: ACCOUNT, failed: false, statuses: ['s', 'd'] },
        {
          account: MEMBER,
          failed: true,
          failedRegions: 1,
          error: `${SECOND}: AccountAccessError`,
          statuses: ['n', 'x'],
        },
      ],
    };
    sfnMock.on(GetExecutionHistoryCommand, { executionArn: sweepExecution }).resolves({
      events: sweepHistory(
        started,
        { id: 'sweep-id-2', accounts: [ACCOUNT, MEMBER, UNREPORTED], regions: [REGION, SECOND] },
        summarize,
      ),
    });
    const report = sweepReport(
      await sweepDeployed({ clients, stackName: STACK, wait: { sleep: async () => {} } }),
    );
    expect(report.targets).toEqual([
      { account: ACCOUNT, region: REGION, trails: [], started: 0, status: 'swept' },
      {
        account: ACCOUNT,
        region: SECOND,
        trails: [],
        started: 0,
        status: 'not-enabled',
        reason: DEPLOYED_GAP_REASONS['not-enabled'],
      },
      {
        account: MEMBER,
        region: REGION,
        trails: [],
        started: 0,
        status: 'not-enrolled',
        reason: expect.stringContaining('AccessDenied'),
      },
      {
        account: MEMBER,
        region: SECOND,
        trails: [],
        started: 0,
        status: 'error',
        error: {
          name: 'AccountAccessError',
          message: expect.stringContaining(`account ${MEMBER} in ${SECOND}`),
        },
      },
      ...[REGION, SECOND].map((region) => ({
        account: UNREPORTED,
        region,
        trails: [],
        started: 0,
        status: 'error',
        error: { name: 'SweepAccountUnreported', message: expect.stringContaining('ended without a result') },
      })),
    ]);
  });
});

describe('check --config against a deployed hub (CloudFormation client mocked: moto does not model a service-managed StackSet’s instances; the trails are moto’s)', () => {
  let cfnMock: AwsClientStub<CloudFormationClient> | undefined;
  afterEach(() => {
    cfnMock?.restore();
    cfnMock = undefined;
  });

  it('a failed StackSet instance of a guarded account and region is listed as a spoke not enrolled', async () => {
    await seedCompliantTrail(clients, 'fine');
    const file = join(await mkdtemp(join(tmpdir(), 'tg-check-hub-')), 'trailguard.json');
    await writeFile(file, JSON.stringify({ accounts: [ACCOUNT], regions: [REGION], hubRegion: REGION }));
    cfnMock = mockClient(CloudFormationClient);
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Trailguard',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'SpokeStackSetId', OutputValue: 'Trailguard-spoke:1' }],
          Parameters: [{ ParameterKey: 'StackSetCallAs', ParameterValue: 'SELF' }],
        },
      ],
    });
    const instance = (region: string, detailed: string, reason?: string) =>
      ({
        Account: ACCOUNT,
        Region: region,
        Status: detailed === 'SUCCEEDED' ? 'CURRENT' : 'OUTDATED',
        StackInstanceStatus: { DetailedStatus: detailed },
        ...(reason ? { StatusReason: reason } : {}),
      }) as StackInstanceSummary;
    cfnMock.on(ListStackInstancesCommand).resolves({
      Summaries: [
        instance(REGION, 'FAILED', 'Account has a role of that name already'),
        // A region this configuration does not guard: not reported.
        instance('ap-east-1', 'FAILED'),
      ],
    });
    const run = await cli(['check', '--config', file, '--json'], { AWS_REGION: REGION });
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as {
      accounts: { accountId: string; spokesNotEnrolled?: unknown }[];
    };
    expect(report.accounts[0]?.spokesNotEnrolled).toEqual([
      { region: REGION, status: 'FAILED', reason: 'Account has a role of that name already' },
    ]);
    expect(cfnMock.commandCalls(ListStackInstancesCommand)[0]?.args[0].input).toMatchObject({
      StackSetName: 'Trailguard-spoke:1',
      CallAs: 'SELF',
    });
    const text = await cli(['check', '--config', file], { AWS_REGION: REGION });
    expect(text.stdout).toContain(
      `Spoke not enrolled (coverage gap: events not forwarded; trailguard spokes): ${REGION} (FAILED: Account has a role of that name already)`,
    );
  });
});
