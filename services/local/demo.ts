/**
 * `npm run demo`: the guardrail on the local AWS emulator. Starts moto on a free port, then
 * 1. one account: broken trails, the sample CloudTrail events replayed through the stack's rule and the
 *    synthesized workflow (findings, what was fixed, the email, the audit record, the end state);
 * 2. an organization: a hub (the emulator's default account) guarding two member accounts in two regions from
 *    one configuration file: `local-setup` creates each member's remediation role through its bootstrap role; a
 *    member's trail broken in the second region is fixed by a replayed event from that account and region; an
 *    IAM change in us-east-1 is fanned out to that account's trails in both regions; an event EventBridge never
 *    delivered is caught by the sweep; every email on the hub's one topic, every record in its one table.
 * Then stops moto. Nothing here reaches real AWS: every client points at the emulator through AWS_ENDPOINT_URL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddTagsCommand,
  CreateTrailCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { DeleteRolePolicyCommand } from '@aws-sdk/client-iam';
import type { AwsClients } from '../aws/clients.js';
import {
  adminClientsIn,
  createBucketIn,
  createDeliveryRole,
  DELIVERY_POLICY_NAME,
  seedTrailIn,
} from './organization-seed.js';
import { adminEvent, happeningNow, sampleEvent } from './sample-events.js';

const REGION = 'us-east-1';
/** The organization part: the second region, and the two member accounts. */
const SECOND_REGION = 'eu-west-1';
const MEMBERS = ['111111111111', '222222222222'] as const;
/** The CloudTrail delivery role of the members' trails. */
const DELIVERY_ROLE = 'org-cloudtrail-delivery';
/** The account the emulator's credentials act in, read with STS once moto is up (never a constant). */
let ACCOUNT = '';
/** The guardrail's own role in that account, as the rules exclude it. */
let OWN_ROLE = '';
const BUCKET = 'org-cloudtrail-logs';
/** The account the sample events were recorded in. */
const RECORDED_ACCOUNT = '123456789012';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const rule = (c: string) => c.repeat(100);
function heading(title: string): void {
  console.log(`\n${rule('═')}\n${bold(title)}\n${rule('═')}`);
}
function sub(title: string): void {
  console.log(`\n${bold(`── ${title} `)}${'─'.repeat(Math.max(0, 96 - title.length))}`);
}
function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** A sample event as if recorded in `account` and `region` (the recording's account and region rewritten). */
function recordedIn(
  event: Record<string, unknown>,
  account: string,
  region: string,
): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event).replaceAll(RECORDED_ACCOUNT, account).replaceAll(REGION, region));
}

async function main(): Promise<void> {
  const { startMoto, sentNotifications, resetMoto } = await import('./moto.js');
  heading('trailguard demo — the guardrail on a local AWS emulator (moto)');
  const moto = await startMoto();
  console.log(`moto started on ${moto.endpoint} (pid ${moto.pid}); every AWS call below goes there.`);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  const work = mkdtempSync(join(tmpdir(), 'trailguard-demo-'));
  try {
    // Imported after AWS_ENDPOINT_URL is set, so nothing is ever created against real AWS.
    const { createClients } = await import('../aws/clients.js');
    const { listAuditRecords } = await import('../aws/audit-store.js');
    const { replayEvent } = await import('./replay.js');
    const { main: cli } = await import('../cli/main.js');
    const { readAccountId } = await import('../aws/trail-reader.js');
    ACCOUNT = await readAccountId(createClients({ defaultRegion: REGION }));
    OWN_ROLE = `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`;
    const clients = createClients({ defaultRegion: REGION });
    const cloudTrail = clients.cloudTrail(REGION);

    // ── Part 1: one account ───────────────────────────────────────────────────────────────────────────────
    heading(`Part 1 — one account (${ACCOUNT}, ${REGION})`);
    sub('trailguard local-setup: the notification topic and the tables');
    await cli(['local-setup']);
    await createBucketIn(BUCKET, REGION);
    // management-events: just created by alice without CloudWatch Logs (the CreateTrail sample), not logging.
    await cloudTrail.send(
      new CreateTrailCommand({ Name: 'management-events', S3BucketName: BUCKET, IsMultiRegionTrail: true }),
    );
    // sandbox-trail: deliberately without CloudWatch Logs, and tagged as exempt.
    const sandbox = await cloudTrail.send(
      new CreateTrailCommand({ Name: 'sandbox-trail', S3BucketName: BUCKET }),
    );
    await cloudTrail.send(
      new AddTagsCommand({
        ResourceId: sandbox.TrailARN,
        TagsList: [{ Key: 'trailguard:exempt', Value: 'true' }],
      }),
    );
    sub('trailguard check — the account before');
    await cli(['check']);

    let mailsSeen = 0;
    const freshMails = async () => {
      const mails = await sentNotifications(moto.endpoint);
      const fresh = mails.slice(mailsSeen);
      mailsSeen = mails.length;
      return fresh;
    };
    const scenario = async (
      title: string,
      story: string,
      event: Record<string, unknown>,
      options: { before?: () => Promise<void>; fullEmail?: boolean } = {},
    ) => {
      sub(title);
      console.log(indent(story));
      if (options.before) await options.before();
      const started = Date.now();
      const result = await replayEvent(happeningNow(event), { clients, ownRoleArn: OWN_ROLE });
      const lines = [
        `outcome:  ${result.outcome.toUpperCase()} (${Date.now() - started} ms${result.states ? `, ${result.transitions} state transitions` : ''})`,
        `reason:   ${result.reason}`,
      ];
      const findings = result.context?.before?.assessment.findings ?? [];
      if (findings.length > 0) lines.push(`findings: ${findings.map((f) => f.code).join(', ')}`);
      for (const a of result.actions) lines.push(`fixed:    ${a.step} ${a.api}: ${a.detail}`);
      const after = result.context?.after?.state;
      if (after) {
        lines.push(
          `after:    log group ${after.trail.cloudWatchLogsLogGroupArn}, role ${after.trail.cloudWatchLogsRoleArn}, logging ${after.status?.isLogging ? 'on' : 'off'}`,
        );
      }
      for (const mail of await freshMails()) {
        lines.push(`email:    ${mail.subject}`);
        if (options.fullEmail) lines.push('', indent(mail.message, '  │ '), '');
      }
      if (result.context?.audit) {
        const [record] = await listAuditRecords(clients, 'trailguard-audit', {
          trail: result.trail ?? undefined,
          limit: 1,
        });
        if (record)
          lines.push(`audit:    ${record.outcome}, ${record.actions.length} change(s), run ${record.run}`);
      }
      console.log(indent(lines.join('\n')));
    };

    await scenario(
      'CreateTrail: alice creates "management-events" without CloudWatch Logs',
      "Replaying shared/events/create-trail.json through the stack's rule and the synthesized workflow.",
      sampleEvent('create-trail'),
      { fullEmail: true },
    );
    await scenario(
      "The remediator's own UpdateTrail comes back through EventBridge",
      `Made by ${OWN_ROLE}: the rule excludes the guardrail's own roles, so it is ignored (no loop).`,
      sampleEvent('own-update-trail'),
    );
    await scenario(
      'StopLogging: alice stops the trail',
      'Logging is stopped first, then stop-logging.json replayed.',
      sampleEvent('stop-logging'),
      {
        before: async () =>
          void (await cloudTrail.send(new StopLoggingCommand({ Name: 'management-events' }))),
      },
    );
    sub('trailguard check — the account after');
    await cli(['check']);

    // ── Part 2: an organization ───────────────────────────────────────────────────────────────────────────
    await resetMoto(moto.endpoint);
    mailsSeen = 0;
    heading(
      `Part 2 — an organization: hub ${ACCOUNT} (${REGION}), members ${MEMBERS.join(' and ')}, regions ${REGION} and ${SECOND_REGION}`,
    );
    const config = join(work, 'organization.json');
    const organization = {
      accounts: [...MEMBERS],
      regions: [REGION, SECOND_REGION],
      hubRegion: REGION,
    };
    writeFileSync(config, JSON.stringify(organization, null, 2));
    console.log(
      `One configuration file, passed with --config to every command:\n${indent(JSON.stringify(organization))}`,
    );

    sub('trailguard local-setup --config organization.json');
    console.log(
      indent(
        "The hub's topic and tables in the hub, and in each member its remediation role, created through the member's OrganizationAccountAccessRole:",
      ),
    );
    await cli(['local-setup', '--config', config]);

    const members = new Map<string, AwsClients>();
    const admin = (account: string): AwsClients => {
      const member = members.get(account);
      if (!member) throw new Error(`no clients for account ${account}`);
      return member;
    };
    // Each member, as its administrator (its OrganizationAccountAccessRole): the delivery role org-trail uses in
    // both regions (one grant for both), and in each region org-trail, integrated through it and logging.
    for (const account of MEMBERS) {
      const member = await adminClientsIn(clients, account, 'OrganizationAccountAccessRole', REGION);
      members.set(account, member);
      await createDeliveryRole(member, account, DELIVERY_ROLE, [REGION, SECOND_REGION]);
      for (const region of [REGION, SECOND_REGION])
        await seedTrailIn(member, account, region, 'org-trail', { role: DELIVERY_ROLE });
    }
    sub('trailguard check --config organization.json — every account x region, grouped by account');
    console.log(
      indent(`Each member has "org-trail" in both regions, delivering through its role ${DELIVERY_ROLE}.`),
    );
    await cli(['check', '--config', config]);

    const [first, second] = MEMBERS;
    const replay = async (title: string, story: string, event: Record<string, unknown>, file: string) => {
      sub(title);
      console.log(indent(story));
      const path = join(work, file);
      writeFileSync(path, JSON.stringify(happeningNow(event), null, 2));
      await cli(['replay', path, '--config', config]);
      const mails = await freshMails();
      for (const mail of mails) console.log(indent(`email on ${mail.topicArn}: ${mail.subject}`));
    };

    const update = adminEvent('UpdateTrail', 'org-trail', 'a1b2c3d4-0101-4c1e-9d2a-000000000101', {
      requestParameters: { name: 'org-trail', cloudWatchLogsLogGroupArn: '', cloudWatchLogsRoleArn: '' },
    });
    await admin(first)
      .cloudTrail(SECOND_REGION)
      .send(
        new UpdateTrailCommand({
          Name: 'org-trail',
          CloudWatchLogsLogGroupArn: '',
          CloudWatchLogsRoleArn: '',
        }),
      );
    await replay(
      `A member's trail broken in ${SECOND_REGION}: UpdateTrail in account ${first}`,
      `Someone in ${first} removed the CloudWatch Logs integration of org-trail in ${SECOND_REGION}; the event from that account and region is replayed on the hub. The hub acts through ${first}'s remediation role, in ${SECOND_REGION}.`,
      recordedIn(update, first, SECOND_REGION),
      'update-trail.json',
    );

    const deletePolicy = recordedIn(
      {
        ...adminEvent('DeleteRolePolicy', DELIVERY_ROLE, 'a1b2c3d4-0102-4c1e-9d2a-000000000102', {
          eventSource: 'iam.amazonaws.com',
          requestParameters: { roleName: DELIVERY_ROLE, policyName: DELIVERY_POLICY_NAME },
        }),
        source: 'aws.iam',
      },
      second,
      REGION,
    );
    await admin(second)
      .iam()
      .send(new DeleteRolePolicyCommand({ RoleName: DELIVERY_ROLE, PolicyName: DELIVERY_POLICY_NAME }));
    await replay(
      `An IAM change in ${REGION}, fanned out to both regions: DeleteRolePolicy in account ${second}`,
      `Someone in ${second} deleted the grant of the delivery role both its trails use. IAM events reach EventBridge in ${REGION} only: the hub finds that account's trails using the role in every guarded region and runs the workflow for each.`,
      deletePolicy,
      'delete-role-policy.json',
    );

    sub(`The sweep catches what EventBridge never delivered: StopLogging in account ${first}, ${REGION}`);
    console.log(
      indent(
        'Logging is stopped with no event replayed; `trailguard sweep` assesses every account x region.',
      ),
    );
    await admin(first)
      .cloudTrail(REGION)
      .send(new StopLoggingCommand({ Name: 'org-trail' }));
    await cli(['sweep', '--config', config]);
    for (const mail of await freshMails()) console.log(indent(`email on ${mail.topicArn}: ${mail.subject}`));

    heading('One email stream, one audit table');
    sub(`Every email went to the hub's topic`);
    const mails = await sentNotifications(moto.endpoint);
    console.log(
      indent(
        [...new Set(mails.map((m) => m.topicArn))].map((t) => `${t}: ${mails.length} email(s)`).join('\n'),
      ),
    );
    sub('trailguard audit --config organization.json');
    await cli(['audit', '--config', config]);
    sub(`trailguard audit --config organization.json --account ${second}`);
    await cli(['audit', '--config', config, '--account', second]);
    sub('trailguard check --config organization.json — the organization after');
    await cli(['check', '--config', config]);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await moto.stop();
    console.log(`\nmoto (pid ${moto.pid}) stopped.`);
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
