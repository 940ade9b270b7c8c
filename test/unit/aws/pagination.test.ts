/**
 * Every IAM and CloudTrail list the reader makes follows every page. moto answers each of these lists in one
 * page, so the pages are served by SDK mocks (aws-sdk-client-mock): a role whose inline and attached policies,
 * and a trail whose tags, span two pages.
 */
import {
  CloudTrailClient,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../policies/config.js';
import type { AwsClients } from '../../../services/aws/clients.js';
import { readRole, readTrailState } from '../../../services/aws/trail-reader.js';
import { assess } from '../../../services/domain/assess.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-2';
const ROLE = 'trailguard-cloudtrail-delivery';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/main`;
const trust = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};
const grant = (action: string) =>
  encodeURIComponent(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: action,
          Resource: `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:*`,
        },
      ],
    }),
  );

function mocked() {
  const iam = new IAMClient({ region: REGION });
  const cloudTrail = new CloudTrailClient({ region: REGION });
  const logs = new CloudWatchLogsClient({ region: REGION });
  const iamMock = mockClient(iam);
  iamMock.on(GetRoleCommand).resolves({
    Role: {
      RoleName: ROLE,
      Arn: ROLE_ARN,
      Path: '/',
      RoleId: 'x',
      CreateDate: new Date(),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
    },
  });
  // Inline policies over two pages: CreateLogStream on the first, PutLogEvents on the second.
  iamMock
    .on(ListRolePoliciesCommand, { RoleName: ROLE })
    .resolves({ PolicyNames: ['create-streams'], IsTruncated: true, Marker: 'page-2' })
    .on(ListRolePoliciesCommand, { RoleName: ROLE, Marker: 'page-2' })
    .resolves({ PolicyNames: ['put-events'], IsTruncated: false });
  iamMock
    .on(GetRolePolicyCommand, { RoleName: ROLE, PolicyName: 'create-streams' })
    .resolves({ RoleName: ROLE, PolicyName: 'create-streams', PolicyDocument: grant('logs:CreateLogStream') })
    .on(GetRolePolicyCommand, { RoleName: ROLE, PolicyName: 'put-events' })
    .resolves({ RoleName: ROLE, PolicyName: 'put-events', PolicyDocument: grant('logs:PutLogEvents') });
  // Attached policies over two pages.
  const policyArn = (n: number) => `arn:aws:iam::${ACCOUNT}:policy/team-${n}`;
  iamMock
    .on(ListAttachedRolePoliciesCommand, { RoleName: ROLE })
    .resolves({
      AttachedPolicies: [{ PolicyName: 'team-1', PolicyArn: policyArn(1) }],
      IsTruncated: true,
      Marker: 'm2',
    })
    .on(ListAttachedRolePoliciesCommand, { RoleName: ROLE, Marker: 'm2' })
    .resolves({ AttachedPolicies: [{ PolicyName: 'team-2', PolicyArn: policyArn(2) }], IsTruncated: false });
  iamMock.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v1' } });
  iamMock.on(GetPolicyVersionCommand).resolves({
    PolicyVersion: { Document: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [] })) },
  });

  const ctMock = mockClient(cloudTrail);
  ctMock.on(GetTrailCommand).resolves({
    Trail: {
      Name: 'main',
      TrailARN: TRAIL_ARN,
      HomeRegion: REGION,
      CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main:*`,
      CloudWatchLogsRoleArn: ROLE_ARN,
    },
  });
  ctMock.on(GetTrailStatusCommand).resolves({ IsLogging: true });
  // Tags over two pages: the exemption tag is on the second.
  ctMock
    .on(ListTagsCommand, { ResourceIdList: [TRAIL_ARN] })
    .resolves({
      ResourceTagList: [{ ResourceId: TRAIL_ARN, TagsList: [{ Key: 'team', Value: 'sec' }] }],
      NextToken: 't2',
    })
    .on(ListTagsCommand, { ResourceIdList: [TRAIL_ARN], NextToken: 't2' })
    .resolves({
      ResourceTagList: [{ ResourceId: TRAIL_ARN, TagsList: [{ Key: 'trailguard:exempt', Value: 'true' }] }],
    });
  mockClient(logs)
    .on(DescribeLogGroupsCommand)
    .resolves({ logGroups: [{ logGroupName: 'CloudTrail/main', retentionInDays: 365 }] });

  const clients = {
    defaultRegion: REGION,
    iam: () => iam,
    cloudTrail: () => cloudTrail,
    logs: () => logs,
  } as unknown as AwsClients;
  return { clients, iamMock, ctMock };
}

describe('every page of every list (SDK mocks: moto answers these lists in one page)', () => {
  it('a role: inline and attached policies from both pages', async () => {
    const { clients, iamMock } = mocked();
    const role = await readRole(clients, ROLE, ROLE_ARN);
    expect(role.permissionPolicies.map((p) => [p.name, p.kind])).toEqual([
      ['create-streams', 'inline'],
      ['put-events', 'inline'],
      ['team-1', 'managed'],
      ['team-2', 'managed'],
    ]);
    expect(iamMock.commandCalls(ListRolePoliciesCommand)).toHaveLength(2);
    expect(iamMock.commandCalls(ListAttachedRolePoliciesCommand)).toHaveLength(2);
  });

  it('a trail: its tags from both pages (the exemption is on the second), and a role granted across pages works', async () => {
    const { clients, ctMock } = mocked();
    const state = await readTrailState(clients, { id: 'main', region: REGION }, ACCOUNT);
    expect(state.tags).toEqual({ team: 'sec', 'trailguard:exempt': 'true' });
    expect(ctMock.commandCalls(ListTagsCommand)).toHaveLength(2);
    const assessment = assess(state, parseConfig({}));
    // Delivery is granted only by the two inline pages together: no permissions finding.
    expect(assessment.findings).toEqual([]);
    expect(assessment.verdict).toBe('exempt');
  });
});
