/**
 * Least privilege, from the other side: every AWS call each step REALLY makes (recorded per step with SDK
 * middleware while the synthesized workflow remediates trails broken in every way the seed knows, plus the
 * failure path) is turned into the IAM request(s) AWS would authorize, and simulated against that step's
 * role as the stack synthesizes it. A call the role would refuse fails here before it fails in production,
 * which the emulator (moto does not enforce IAM) would never show.
 */
import { DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteLogGroupCommand,
  DeleteMetricFilterCommand,
  DescribeMetricFiltersCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../policies/config.js';
import { localStateTableName } from '../../../services/aws/state-store.js';
import { cisAlarmNames } from '../../../services/domain/cis-monitoring.js';
import type { StepFunction } from '../../../services/handlers/deps.js';
import { STEPS, type StepName } from '../../../services/handlers/registry.js';
import { remediateTrail, replayEvent, sweepLocally } from '../../../services/local/replay.js';
import { type StepFactory, synthesizeApp } from '../../../services/local/workflow-runner.js';
import { ACCOUNT, REGION, testClients } from '../../support/aws.js';
import { type CallRecord, FaultInjector, type FaultRule, failing } from '../../support/faults.js';
import { type Breaks, seedBrokenTrail, seedTrail } from '../../support/seed.js';
import {
  type CfnTemplate,
  decide,
  type IamRequest,
  type RolePolicies,
  rolesOf,
  ACCOUNT as TEMPLATE_ACCOUNT,
  REGION as TEMPLATE_REGION,
} from '../../unit/reliability/template-policies.js';
import { cloudTrailEvent, freshGuardrail, IDEMPOTENCY_TABLE, TABLE, TOPIC } from './harness.js';

const STEP_NAMES = Object.keys(STEPS) as StepName[];
/** A region other than REGION (and other than the template's region) in every project. */
const OTHER_REGION = 'eu-west-3';

/** One recorder per step: the step's clients go through it, so each call is attributed to its step. */
function recordingSteps(faults: Partial<Record<StepName, FaultRule[]>> = {}) {
  const recorders = Object.fromEntries(
    STEP_NAMES.map((s) => [s, new FaultInjector(faults[s] ?? [])]),
  ) as Record<StepName, FaultInjector>;
  const steps = Object.fromEntries(
    STEP_NAMES.map((step) => {
      const factory: StepFactory = (deps): StepFunction =>
        STEPS[step]({
          ...deps,
          clients: recorders[step].clients({ defaultRegion: deps.clients.defaultRegion }),
        });
      return [step, factory];
    }),
  ) as Record<StepName, StepFactory>;
  return { recorders, steps };
}

const trailArn = (call: CallRecord, name: unknown) =>
  String(name).startsWith('arn:')
    ? String(name)
    : `arn:aws:cloudtrail:${call.region ?? REGION}:${ACCOUNT}:trail/${String(name)}`;
const logGroupArn = (call: CallRecord, name: unknown) =>
  `arn:aws:logs:${call.region ?? REGION}:${ACCOUNT}:log-group:${String(name)}`;
const roleArn = (name: unknown, path = '/') => `arn:aws:iam::${ACCOUNT}:role${path}${String(name)}`;

function tagContext(tags: Record<string, string>): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = { 'aws:TagKeys': Object.keys(tags) };
  for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
  return context;
}

/** The IAM request(s) AWS authorizes for one SDK call (see each service's Service Authorization Reference). */
function iamRequests(call: CallRecord): IamRequest[] {
  const input = (call.input ?? {}) as Record<string, unknown>;
  const action = (service: string) => `${service}:${call.operation}`;
  switch (call.service) {
    case 'CloudTrail': {
      if (call.operation === 'DescribeTrails')
        return [{ action: 'cloudtrail:DescribeTrails', resource: '*' }];
      if (call.operation === 'ListTags') {
        return ((input.ResourceIdList as string[] | undefined) ?? []).map((id) => ({
          action: 'cloudtrail:ListTags',
          resource: trailArn(call, id),
        }));
      }
      const requests: IamRequest[] = [{ action: action('cloudtrail'), resource: trailArn(call, input.Name) }];
      if (call.operation === 'UpdateTrail' && typeof input.CloudWatchLogsRoleArn === 'string') {
        requests.push({
          action: 'iam:PassRole',
          resource: input.CloudWatchLogsRoleArn,
          context: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' },
        });
      }
      return requests;
    }
    case 'CloudWatchLogs': {
      if (call.operation === 'DescribeLogGroups')
        return [{ action: 'logs:DescribeLogGroups', resource: '*' }];
      if (call.operation === 'ListTagsForResource' || call.operation === 'TagResource')
        return [{ action: action('logs'), resource: String(input.resourceArn) }];
      const resource = logGroupArn(call, input.logGroupName ?? input.logGroupIdentifier);
      const requests: IamRequest[] = [{ action: action('logs'), resource }];
      if (call.operation === 'PutSubscriptionFilter' && typeof input.roleArn === 'string') {
        requests.push({
          action: 'iam:PassRole',
          resource: input.roleArn,
          context: { 'iam:PassedToService': 'logs.amazonaws.com' },
        });
      }
      const tags = input.tags as Record<string, string> | undefined;
      if (call.operation === 'CreateLogGroup' && tags) {
        requests[0] = { action: 'logs:CreateLogGroup', resource, context: tagContext(tags) };
        requests.push({ action: 'logs:TagResource', resource, context: tagContext(tags) });
      }
      return requests;
    }
    case 'IAM': {
      if (call.operation === 'GetPolicy' || call.operation === 'GetPolicyVersion')
        return [{ action: action('iam'), resource: String(input.PolicyArn) }];
      const resource = roleArn(input.RoleName, typeof input.Path === 'string' ? input.Path : '/');
      if (call.operation === 'CreateRole') {
        const tags = Object.fromEntries(
          ((input.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((t) => [t.Key, t.Value]),
        );
        return [
          { action: 'iam:CreateRole', resource, context: tagContext(tags) },
          ...(Object.keys(tags).length > 0
            ? [{ action: 'iam:TagRole', resource, context: tagContext(tags) }]
            : []),
        ];
      }
      return [{ action: action('iam'), resource }];
    }
    case 'CloudWatch': {
      const alarm = (name: unknown) =>
        `arn:aws:cloudwatch:${call.region ?? REGION}:${ACCOUNT}:alarm:${String(name)}`;
      if (call.operation === 'DescribeAlarms') {
        return ((input.AlarmNames as string[] | undefined) ?? []).map((name) => ({
          action: 'cloudwatch:DescribeAlarms',
          resource: alarm(name),
        }));
      }
      return [
        {
          action: action('cloudwatch'),
          resource: alarm(input.AlarmName),
          ...(call.operation === 'PutMetricAlarm'
            ? { context: { 'cloudwatch:AlarmActions': (input.AlarmActions as string[] | undefined) ?? [] } }
            : {}),
        },
      ];
    }
    case 'SNS':
      return [{ action: 'sns:Publish', resource: String(input.TopicArn) }];
    case 'DynamoDB':
      return [
        {
          action: action('dynamodb'),
          resource: `arn:aws:dynamodb:${call.region ?? REGION}:${ACCOUNT}:table/${String(input.TableName)}`,
        },
      ];
    case 'SecurityHub':
      // GetFindings / BatchUpdateFindings: the hub is an optional resource type (Service Authorization Reference).
      return [{ action: action('securityhub'), resource: '*' }];
    case 'STS':
      return []; // GetCallerIdentity needs no permission
    default:
      throw new Error(`no IAM mapping for ${call.service}.${call.operation}`);
  }
}

/**
 * The template's roles are resolved for the account and region of template-policies.ts; the calls were made
 * in ACCOUNT and REGION. A stack deployed there is the same template resolved for them, so the requests are
 * relabelled: the two accounts swap places in every ARN, and so do the two regions. A swap, not a mapping
 * onto the template's values: a call that wrongly went to the template's account or region lands on the
 * account or region under test, which the template does not grant, and is still refused.
 */
function swap(value: string, a: string, b: string): string {
  if (value === a) return b;
  if (value === b) return a;
  return value;
}
function inTemplateAccount(resource: string): string {
  const parts = resource.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return resource;
  parts[3] = swap(parts[3] ?? '', REGION, TEMPLATE_REGION);
  parts[4] = swap(parts[4] ?? '', ACCOUNT, TEMPLATE_ACCOUNT);
  return parts.join(':');
}
/** ARNs in the request's context (e.g. cloudwatch:AlarmActions, the topic) are relabelled the same way. */
const asTemplateRequest = (request: IamRequest): IamRequest => ({
  ...request,
  resource: inTemplateAccount(request.resource),
  ...(request.context
    ? {
        context: Object.fromEntries(
          Object.entries(request.context).map(([key, value]) => [
            key,
            Array.isArray(value) ? value.map(inTemplateAccount) : inTemplateAccount(value),
          ]),
        ),
      }
    : {}),
});

let template: CfnTemplate;
let roles: RolePolicies[];
const observed = new Map<string, { step: StepName; request: IamRequest; scenario: string }>();

function physicalNames(t: CfnTemplate): Record<string, string> {
  const names: Record<string, string> = {};
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::SNS::Topic') names[id] = TOPIC;
    if (r.Type === 'AWS::DynamoDB::Table') {
      const kind = r.Metadata?.['trailguard:table'];
      names[id] =
        kind === 'idempotency'
          ? IDEMPOTENCY_TABLE
          : kind === 'state'
            ? localStateTableName({ auditTableName: TABLE })
            : TABLE;
    }
  }
  return names;
}

async function record(
  scenario: string,
  run: (steps: Record<StepName, StepFactory>) => Promise<unknown>,
  faults: Partial<Record<StepName, FaultRule[]>> = {},
) {
  const { recorders, steps } = recordingSteps(faults);
  await run(steps);
  for (const step of STEP_NAMES) {
    for (const call of recorders[step].calls) {
      for (const request of iamRequests(call)) {
        const key = JSON.stringify([step, request]);
        if (!observed.has(key)) observed.set(key, { step, request, scenario });
      }
    }
  }
}

const BREAKS: [string, Breaks][] = [
  ['nothing integrated, not logging', { logGroupArn: 'absent', roleArn: 'absent', loggingStopped: true }],
  ['log group missing', { logGroupMissing: true }],
  ['role missing', { roleMissing: true }],
  ['trust of another service', { trust: 'wrong-service' }],
  ['trust denied', { trust: 'denied' }],
  ['no permissions', { permissions: 'none' }],
  ['permissions for another group', { permissions: 'other-group' }],
  ['log group ARN without :*', { logGroupArn: 'no-suffix' }],
  ['malformed ARNs', { logGroupArn: 'malformed', roleArn: 'malformed' }],
  ['foreign role', { roleArn: 'foreign' }],
];

beforeEach(async () => {
  observed.clear();
  await freshGuardrail();
});

describe('every call each step makes is allowed by its synthesized role', () => {
  it('remediations of every breakage, a trail in another region, the failure path', async () => {
    for (const [label, breaks] of BREAKS) {
      await freshGuardrail();
      await seedTrail(testClients(), 'main', { breaks, managedPolicy: label === 'trust denied' });
      await record(label, (steps) =>
        replayEvent(cloudTrailEvent('StopLogging', 'main'), { clients: testClients(), steps }),
      );
    }
    await freshGuardrail();
    await seedBrokenTrail(testClients(), 'other-trail', { region: OTHER_REGION });
    await record(`a trail homed in another region (${OTHER_REGION})`, (steps) =>
      remediateTrail('other-trail', OTHER_REGION, { clients: testClients(), steps }),
    );
    await freshGuardrail();
    await seedBrokenTrail(testClients(), 'main');
    await record(
      'failure path (CloudTrail keeps rejecting the role)',
      (steps) => replayEvent(cloudTrailEvent('StopLogging', 'main'), { clients: testClients(), steps }),
      { RestoreTrail: [failing('UpdateTrail', 'roleRejected')] },
    );
    expect(observed.size).toBeGreaterThan(20);

    expect(await refusedCalls()).toEqual([]);
  });

  it('with cisMonitoring and the delivery check: the CIS monitoring read and repaired, a log group restored from its snapshot, the delivery re-read', async () => {
    const config = { cisMonitoring: true };
    const clients = testClients();
    await seedTrail(clients, 'main', { multiRegion: true });
    const logs = clients.logs(REGION);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: 'CloudTrail/main', retentionInDays: 400 }));
    await logs.send(
      new TagResourceCommand({
        resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main`,
        tags: { team: 'security' },
      }),
    );
    // The sweep (not a workflow step, so not recorded here) puts the CIS monitoring there and takes the
    // snapshot; then the group goes (with its metric filters, as on AWS: moto would keep them) and an alarm.
    await sweepLocally({ clients, config });
    await sweepLocally({ clients, config });
    const filters = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: 'CloudTrail/main' }));
    for (const f of filters.metricFilters ?? []) {
      await logs.send(
        new DeleteMetricFilterCommand({ logGroupName: 'CloudTrail/main', filterName: f.filterName }),
      );
    }
    await logs.send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/main' }));
    await clients
      .cloudWatch(REGION)
      .send(new DeleteAlarmsCommand({ AlarmNames: cisAlarmNames('CloudTrail/main').slice(0, 1) }));
    await record('CIS monitoring, snapshot restore, delivery check', (steps) =>
      replayEvent(cloudTrailEvent('StopLogging', 'main'), { clients, steps, config, deliveryCheck: true }),
    );
    expect([...observed.values()].map((o) => o.request.action)).toEqual(
      expect.arrayContaining([
        'logs:DescribeMetricFilters',
        'cloudwatch:DescribeAlarms',
        'logs:PutMetricFilter',
        'cloudwatch:PutMetricAlarm',
        'logs:TagResource',
        'dynamodb:GetItem',
      ]),
    );
    expect([...observed.values()].filter((o) => o.step === 'CheckDelivery')).not.toEqual([]);
    expect(await refusedCalls(config)).toEqual([]);
  });
});

/** Every observed call its step's role (in the template synthesized for `config`) does not allow. */
async function refusedCalls(config: ConfigInput = {}): Promise<string[]> {
  // The template the local runner synthesized (the same buildApp, bundling off), not a second synth.
  template = (await synthesizeApp(config)).template as CfnTemplate;
  roles = rolesOf(template, physicalNames(template));
  const refused: string[] = [];
  for (const { step, request, scenario } of observed.values()) {
    const role = roles.find((r) => r.owner === step);
    if (!role) throw new Error(`no role for ${step}`);
    if ((await decide(role, asTemplateRequest(request))) !== 'Allowed') {
      refused.push(
        `${step}: ${request.action} on ${request.resource}${request.context ? ` ${JSON.stringify(request.context)}` : ''} (${scenario})`,
      );
    }
  }
  return [...new Set(refused)].sort();
}
