/**
 * `npm run demo`: the guardrail on the local AWS emulator. Starts moto on a free port, seeds an account with
 * broken trails, replays the sample CloudTrail events through the stack's rule and the synthesized workflow,
 * and shows for each the findings, what was fixed, the email, the audit record and the end state. Then stops
 * moto. Nothing here reaches real AWS: every client points at the emulator through AWS_ENDPOINT_URL.
 */
import {
  AddTagsCommand,
  CreateTrailCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

import { adminEvent, sampleEvent } from './sample-events.js';

const REGION = 'us-east-1';
/** The account the emulator's credentials act in, read with STS once moto is up (never a constant). */
let ACCOUNT = '';
/** The guardrail's own role in that account, as the rules exclude it. */
let OWN_ROLE = '';
const BUCKET = 'org-cloudtrail-logs';

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

async function main(): Promise<void> {
  const { startMoto, sentNotifications } = await import('./moto.js');
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

    heading('1. Local setup: the notification topic and the audit table (trailguard local-setup)');
    await cli(['local-setup']);

    heading('2. A realistic account with broken trails');
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    s3.destroy();
    // management-events: just created by alice without CloudWatch Logs (the CreateTrail sample), not logging.
    await cloudTrail.send(
      new CreateTrailCommand({
        Name: 'management-events',
        S3BucketName: BUCKET,
        IsMultiRegionTrail: true,
        EnableLogFileValidation: true,
      }),
    );
    // legacy-audit: an old set-up — log group ARN without the ':*' CloudTrail requires, the log group deleted,
    // and its delivery role trusting EC2 instead of CloudTrail.
    await clients.iam().send(
      new CreateRoleCommand({
        RoleName: 'legacy-cloudtrail-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    await cloudTrail.send(
      new CreateTrailCommand({
        Name: 'legacy-audit',
        S3BucketName: BUCKET,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/legacy-audit`,
        CloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/legacy-cloudtrail-role`,
      }),
    );
    await cloudTrail.send(new StartLoggingCommand({ Name: 'legacy-audit' }));
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
    // data-events: a team's own working integration (custom log group and role): compliant, left alone.
    await clients.logs(REGION).send(new CreateLogGroupCommand({ logGroupName: 'team/data-events' }));
    await clients.iam().send(
      new CreateRoleCommand({
        RoleName: 'team-cloudtrail-logs',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    await clients.iam().send(
      new PutRolePolicyCommand({
        RoleName: 'team-cloudtrail-logs',
        PolicyName: 'delivery',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:team/data-events:*`,
            },
          ],
        }),
      }),
    );
    await cloudTrail.send(
      new CreateTrailCommand({
        Name: 'data-events',
        S3BucketName: BUCKET,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:team/data-events:*`,
        CloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/team-cloudtrail-logs`,
      }),
    );
    await cloudTrail.send(new StartLoggingCommand({ Name: 'data-events' }));
    sub('trailguard check — the account before');
    await cli(['check']);

    let mailsSeen = 0;
    const scenario = async (
      title: string,
      story: string,
      event: Record<string, unknown>,
      before?: () => Promise<void>,
    ) => {
      heading(title);
      console.log(story);
      if (before) await before();
      const started = Date.now();
      const result = await replayEvent(event, { clients, ownRoleArn: OWN_ROLE });
      const ms = Date.now() - started;
      sub(
        `Outcome: ${result.outcome.toUpperCase()} (${ms} ms${result.states ? `, ${result.transitions} state transitions` : ''})`,
      );
      console.log(indent(`trail:  ${result.trail ?? '-'}\nreason: ${result.reason}`));
      const findings = result.context?.before?.assessment.findings ?? [];
      sub('Findings');
      console.log(
        indent(findings.length ? findings.map((f) => `${f.code}: ${f.message}`).join('\n') : 'none'),
      );
      sub('What was fixed');
      console.log(
        indent(
          result.actions.length
            ? result.actions.map((a) => `${a.step} ${a.api}: ${a.detail}`).join('\n')
            : 'nothing',
        ),
      );
      const mails = await sentNotifications(moto.endpoint);
      const fresh = mails.slice(mailsSeen);
      mailsSeen = mails.length;
      sub('Email (as published to SNS)');
      if (fresh.length === 0) console.log(indent('no email: nothing needed a person'));
      for (const mail of fresh) {
        const attrs = Object.entries(mail.messageAttributes).map(
          ([k, v]) => `${k}=${v.Value ?? v.StringValue}`,
        );
        console.log(indent(`Subject: ${mail.subject}\nAttributes: ${attrs.join(', ')}\n\n${mail.message}`));
      }
      sub('Audit record');
      const record = result.context?.audit
        ? (
            await listAuditRecords(clients, 'trailguard-audit', {
              trail: result.trail ?? undefined,
              limit: 1,
            })
          )[0]
        : undefined;
      console.log(indent(record ? JSON.stringify(record, null, 2) : 'none: no action was taken or proposed'));
      if (result.context?.after) {
        sub('End state (re-read after the fix)');
        const s = result.context.after.state;
        console.log(
          indent(
            `log group ARN: ${s.trail.cloudWatchLogsLogGroupArn}\nrole ARN:      ${s.trail.cloudWatchLogsRoleArn}\nlogging:       ${s.status?.isLogging ? 'on' : 'off'}`,
          ),
        );
      }
    };

    await scenario(
      '3. CreateTrail: alice creates "management-events" without CloudWatch Logs',
      'Replaying shared/events/create-trail.json.',
      sampleEvent('create-trail'),
    );
    await scenario(
      "4. The remediator's own UpdateTrail comes back through EventBridge",
      `Replaying own-update-trail.json, made by ${OWN_ROLE}: the stack's rule excludes the guardrail's own roles, so it must be ignored (no loop).`,
      sampleEvent('own-update-trail'),
    );
    await scenario(
      '5. UpdateTrail: alice removes the CloudWatch Logs integration in the console',
      'The console sends empty strings for both ARNs; the trail is changed first, then the event replayed.',
      sampleEvent('update-trail-remove-cloudwatch'),
      async () => {
        await cloudTrail.send(
          new UpdateTrailCommand({
            Name: 'management-events',
            CloudWatchLogsLogGroupArn: '',
            CloudWatchLogsRoleArn: '',
          }),
        );
      },
    );
    await scenario(
      '6. StopLogging: alice stops the trail (the event names it by ARN)',
      'Logging is stopped first, then stop-logging.json replayed.',
      sampleEvent('stop-logging'),
      async () => {
        await cloudTrail.send(new StopLoggingCommand({ Name: 'management-events' }));
      },
    );
    await scenario(
      '7. The same StopLogging event delivered a second time',
      'EventBridge may deliver an event more than once: the second run finds the trail compliant and ends quietly.',
      sampleEvent('stop-logging'),
    );
    await scenario(
      '8. UpdateTrail on "legacy-audit": malformed ARN, deleted log group, role that does not trust CloudTrail',
      "A broken set-up from long ago, noticed when someone touches the trail. Its role is not one trailguard manages, so it is left as it is and the trail is pointed at trailguard's delivery role; the log group is recreated under its own name.",
      adminEvent('UpdateTrail', 'legacy-audit', 'a1b2c3d4-0005-4c1e-9d2a-000000000005'),
    );
    await scenario(
      '9. UpdateTrail on "sandbox-trail", tagged trailguard:exempt=true',
      'Exempt trails are reported, never changed.',
      adminEvent('UpdateTrail', 'sandbox-trail', 'a1b2c3d4-0006-4c1e-9d2a-000000000006'),
    );

    heading('10. The account after');
    sub('trailguard check');
    await cli(['check']);
    sub('trailguard audit');
    await cli(['audit']);
  } finally {
    await moto.stop();
    console.log(`\nmoto (pid ${moto.pid}) stopped.`);
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
