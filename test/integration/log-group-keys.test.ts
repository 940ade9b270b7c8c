/**
 * A log group trailguard creates is encrypted with the key of its trail's account and region (kmsKeys), on moto
 * with two member accounts and two regions. KMS keys are regional, and CloudWatch Logs uses a key only for log
 * groups of the key's region (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"):
 * each region has its own key, and one member has its own key in the second region. The keys are made in moto's
 * KMS, each in its account and region, with the key policy shape docs/deploy.md documents for a key of another
 * account; moto does not evaluate key policies (test/infra/wiring.test.ts evaluates that edge), so this test
 * shows which key each new group gets, read back with the member's own clients.
 */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../policies/config.js';
import { accountAccess } from '../../services/aws/accounts.js';
import { ensureAuditTable } from '../../services/aws/audit-store.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { ensureStateTable, localStateTableName } from '../../services/aws/state-store.js';
import { seedTrailIn } from '../../services/local/organization-seed.js';
import { resultOf } from '../../services/local/replay.js';
import { runWorkflow } from '../../services/local/workflow-runner.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator, testClients } from '../support/aws.js';
import { eventIn } from '../support/organization.js';

const MEMBER = '444455556666';
const OTHER_MEMBER = '777788889999';
const SECOND_REGION = REGION === 'us-east-1' ? 'eu-west-1' : 'us-east-1';
const REGIONS = [REGION, SECOND_REGION];
const TABLE = 'trailguard-audit';

let hub: AwsClients = testClients();

/** Credentials acting in `account` (moto acts in the account of an assumed role's credentials). */
async function credentialsIn(account: string) {
  const sts = new STSClient({ region: REGION, credentials: currentCredentials, maxAttempts: 1 });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/key-admin`, RoleSessionName: 'keys' }),
  );
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error('AssumeRole gave no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/**
 * A symmetric key in `account` and `region` whose policy lets CloudWatch Logs of that region use it for the log
 * groups of `users` (the shape of CloudWatch Logs' encryption page).
 */
async function createKey(account: string, region: string, users: string[]): Promise<string> {
  const kms = new KMSClient({ region, credentials: await credentialsIn(account), maxAttempts: 1 });
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'KeyAdministration',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'CloudWatchLogsOfTheGuardedAccounts',
        Effect: 'Allow',
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': users.map((u) => `arn:aws:logs:${region}:${u}:log-group:*`),
          },
        },
      },
    ],
  };
  const out = await kms.send(
    new CreateKeyCommand({
      Description: `trailguard test: log groups of ${users.join(', ')} in ${region}`,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Policy: JSON.stringify(policy),
    }),
  );
  const arn = out.KeyMetadata?.Arn;
  if (!arn) throw new Error('KMS CreateKey returned no key ARN');
  return arn;
}

beforeEach(async () => {
  await resetEmulator();
  hub = testClients();
  await ensureTopic(hub, 'trailguard-notifications');
  await ensureAuditTable(hub, TABLE);
  await ensureStateTable(hub, localStateTableName({ auditTableName: TABLE }));
});

describe("RestoreLogGroup encrypts each new log group with its account's and region's key", () => {
  it('two members x two regions: the region key, and the member key where the member has its own', async () => {
    // One key per region in the hub's account (for both members' log groups), and MEMBER's own in SECOND_REGION.
    const regionKeys = {
      [REGION]: await createKey(ACCOUNT, REGION, [MEMBER, OTHER_MEMBER]),
      [SECOND_REGION]: await createKey(ACCOUNT, SECOND_REGION, [OTHER_MEMBER]),
    };
    const memberKey = await createKey(MEMBER, SECOND_REGION, [MEMBER]);
    expect(regionKeys[REGION]?.split(':')[3]).toBe(REGION);
    expect(memberKey.split(':').slice(3, 5)).toEqual([SECOND_REGION, MEMBER]);
    const config: ConfigInput = {
      accounts: [MEMBER, OTHER_MEMBER],
      regions: REGIONS,
      kmsKeys: { ...regionKeys, [MEMBER]: { [SECOND_REGION]: memberKey } },
    };
    const accounts = accountAccess(hub, {
      hubAccount: ACCOUNT,
      roleName: 'trailguard-remediation',
      sessionName: 'trailguard-test',
    });
    const expected: Record<string, string> = {
      [`${MEMBER} ${REGION}`]: regionKeys[REGION] ?? '',
      [`${MEMBER} ${SECOND_REGION}`]: memberKey,
      [`${OTHER_MEMBER} ${REGION}`]: regionKeys[REGION] ?? '',
      [`${OTHER_MEMBER} ${SECOND_REGION}`]: regionKeys[SECOND_REGION] ?? '',
    };
    for (const account of [MEMBER, OTHER_MEMBER]) {
      const member = await accounts.clientsFor(account);
      for (const region of REGIONS) {
        const name = `trail-${region}`;
        await seedTrailIn(member, account, region, name);
        const run = await runWorkflow(eventIn(account, region, 'StopLogging', name), {
          clients: hub,
          config,
          accounts,
        });
        const result = resultOf(run, name);
        expect(result.outcome, `${account} ${region}: ${result.reason}`).toBe('remediated');
        const created = result.actions.find((a) => a.api === 'CreateLogGroup');
        expect(created?.detail).toContain(`encrypted with ${expected[`${account} ${region}`]}`);
        // Read back with the member's own clients in the trail's region.
        const groups = await member
          .logs(region)
          .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `CloudTrail/${name}` }));
        expect(
          groups.logGroups?.map((g) => [g.logGroupName, g.kmsKeyId]),
          `${account} ${region}`,
        ).toEqual([[`CloudTrail/${name}`, expected[`${account} ${region}`]]]);
      }
    }
  });
});
