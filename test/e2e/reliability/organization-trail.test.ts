/**
 * Organization trails, through the synthesized workflow against moto's Organizations: the member accounts'
 * streams are granted as AWS documents them, `o-ORGID_*` with the organization's real id (read with
 * DescribeOrganization, never widened to `o-*`), and a role granting exactly the documented patterns is
 * compliant.
 */
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { beforeEach, describe, expect, it } from 'vitest';
import { remediateTrail } from '../../../services/local/replay.js';
import { ACCOUNT, currentCredentials, REGION, testClients } from '../../support/aws.js';
import { independentProblems } from '../../support/independent-check.js';
import { createBucket, trustPolicy } from '../../support/seed.js';
import { freshGuardrail } from './harness.js';

const clients = testClients();
let organizationId = '';

beforeEach(async () => {
  await freshGuardrail();
  const organizations = new OrganizationsClient({ region: 'us-east-1', credentials: currentCredentials });
  const { Organization } = await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  organizationId = Organization?.Id ?? '';
  expect(organizationId).toMatch(/^o-[a-z0-9]{10,32}$/);
});

async function orgTrail(name: string, integration?: { logGroup: string; role: string }) {
  const bucket = await createBucket();
  const out = await clients.cloudTrail(REGION).send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: bucket,
      IsMultiRegionTrail: true,
      IsOrganizationTrail: true,
      ...(integration
        ? {
            CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${integration.logGroup}:*`,
            CloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/${integration.role}`,
          }
        : {}),
    }),
  );
  expect(out.IsOrganizationTrail).toBe(true);
  await clients.cloudTrail(REGION).send(new StartLoggingCommand({ Name: name }));
}

describe('organization trails (the management account owns them)', () => {
  it('remediated with the documented streams: this account and o-ORGID_* with the real id', async () => {
    await orgTrail('org-trail');
    const result = await remediateTrail('org-trail', REGION, { clients: testClients() });
    expect(result.outcome, result.reason).toBe('remediated');

    const { PolicyDocument } = await clients.iam().send(
      new GetRolePolicyCommand({
        RoleName: 'trailguard-cloudtrail-delivery',
        PolicyName: 'trailguard-cloudtrail-delivery',
      }),
    );
    const text = PolicyDocument ?? '';
    const doc = JSON.parse(text.startsWith('{') ? text : decodeURIComponent(text)) as {
      Statement: { Resource: string[] }[];
    };
    expect(doc.Statement[0]?.Resource).toEqual([
      `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ACCOUNT}_CloudTrail_*`,
      `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${organizationId}_*`,
    ]);
    expect(JSON.stringify(doc)).not.toContain('o-*');
    expect(await independentProblems('org-trail')).toEqual([]);
  });

  it('a role granting exactly the documented patterns is compliant; one missing the o-ORGID_* streams is not', async () => {
    const group = 'aws-cloudtrail-logs-org';
    await clients.logs(REGION).send(new CreateLogGroupCommand({ logGroupName: group }));
    const streams = (suffix: string) =>
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:${suffix}`;
    const grant = (resources: string[]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['logs:CreateLogStream'], Resource: resources },
          { Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: resources },
        ],
      });
    for (const [role, resources] of [
      ['documented-role', [streams(`${ACCOUNT}_CloudTrail_${REGION}*`), streams(`${organizationId}_*`)]],
      ['account-only-role', [streams(`${ACCOUNT}_CloudTrail_${REGION}*`)]],
    ] as const) {
      await clients.iam().send(
        new CreateRoleCommand({
          RoleName: role,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy('valid')),
        }),
      );
      await clients.iam().send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: 'delivery',
          PolicyDocument: grant([...resources]),
        }),
      );
    }
    await orgTrail('documented', { logGroup: group, role: 'documented-role' });
    await orgTrail('account-only', { logGroup: group, role: 'account-only-role' });

    const ok = await remediateTrail('documented', REGION, { clients: testClients() });
    expect(ok.outcome, ok.reason).toBe('compliant');

    // notify-only: the finding is reported, nothing is changed.
    const missing = await remediateTrail('account-only', REGION, {
      clients: testClients(),
      config: { mode: 'notify-only' },
    });
    expect(missing.outcome).toBe('notified');
    expect(missing.findings).toEqual(['ROLE_PERMISSIONS_INSUFFICIENT']);
    const message = missing.context?.before?.assessment.findings[0]?.message ?? '';
    expect(message).toContain('no policy allows it');
    expect(missing.context?.before?.assessment.target.streamResources).toEqual([
      streams(`${ACCOUNT}_CloudTrail_${REGION}*`),
      streams(`${organizationId}_*`),
    ]);
  });
});
