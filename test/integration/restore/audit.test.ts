import { CreateTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable, listAuditRecords } from '../../../services/aws/audit-store.js';
import { ensureTopic } from '../../../services/aws/notifier.js';
import { AuditWriteError } from '../../../services/domain/errors.js';
import { type Outcome, type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import { auditStep } from '../../../services/handlers/audit.js';
import type { HandlerDeps } from '../../../services/handlers/deps.js';
import { notifyStep } from '../../../services/handlers/notify.js';
import { restoreLogGroupStep } from '../../../services/handlers/restore-log-group.js';
import { restoreRoleStep } from '../../../services/handlers/restore-role.js';
import { restoreTrailStep } from '../../../services/handlers/restore-trail.js';
import { verifyStep } from '../../../services/handlers/verify.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../../support/aws.js';
import {
  checkContext,
  createBucket,
  createTrail,
  execution,
  makeDeps,
  NOW,
  stopLoggingEvent,
  TABLE,
  trailArnOf,
} from '../../support/seed-remediation.js';

async function notified(deps: HandlerDeps, trail: string, n = 1): Promise<RunContext> {
  let out: unknown = await checkContext(deps, trail, n);
  for (const step of [restoreLogGroupStep, restoreRoleStep, restoreTrailStep, verifyStep, notifyStep])
    out = await step(deps)(out);
  return RunContextSchema.parse(out);
}

async function itemCount(): Promise<number> {
  const out = await testClients()
    .dynamo()
    .send(new ScanCommand({ TableName: TABLE }));
  return out.Items?.length ?? 0;
}

function counter() {
  const counted: Outcome[] = [];
  const timesToRemediate: number[] = [];
  return {
    counted,
    timesToRemediate,
    observability: {
      countOutcome: (o: Outcome) => counted.push(o),
      recordTimeToRemediate: (seconds: number) => timesToRemediate.push(seconds),
    },
  };
}

describe('Audit', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('writes one record of the run with everything a reviewer needs', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'management-events');
    const ctx = await notified(deps, 'management-events');
    const { counted, timesToRemediate, observability } = counter();

    const out = RunContextSchema.parse(await auditStep(deps, observability)(ctx));

    const run = `${execution(1).startTime}#${execution(1).id}`;
    expect(out.audit).toEqual({ id: run, tableName: TABLE });
    expect(counted).toEqual(['remediated']);
    // The event's eventTime (11:58:00Z) to Verify's confirmation (the deps' clock, 12:00:00Z).
    expect(timesToRemediate).toEqual([120]);
    const records = await listAuditRecords(deps.clients, TABLE);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      trail: trailArnOf('management-events'),
      run,
      executionId: execution(1).id,
      triggerKind: 'event',
      eventId: '5d8e7a1c-1111-4222-8333-444455556666',
      eventName: 'StopLogging',
      actor: {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
        type: 'AssumedRole',
        sourceIp: '203.0.113.7',
        userAgent: 'aws-cli/2.15.0 Python/3.11',
      },
      trailArn: trailArnOf('management-events'),
      region: REGION,
      account: ACCOUNT,
      outcome: 'remediated',
      severity: 'CRITICAL',
      stateAfter: {
        logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/management-events:*`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`,
        logging: true,
        remainingFindings: [],
        verified: true,
      },
      notification: { messageId: ctx.notification?.messageId },
      timeToRemediate: {
        seconds: 120,
        from: 'event',
        since: '2025-06-01T11:58:00Z',
        verifiedAt: NOW.toISOString(),
      },
      startedAt: execution(1).startTime,
      recordedAt: NOW.toISOString(),
    });
    expect(record?.findingsBefore.map((f) => f.code)).toEqual([
      'LOG_GROUP_ARN_MISSING',
      'ROLE_ARN_MISSING',
      'LOGGING_STOPPED',
    ]);
    expect(record?.actions.map((a) => a.api)).toEqual([
      'CreateLogGroup',
      'PutRetentionPolicy',
      'CreateRole',
      'PutRolePolicy',
      'UpdateTrail',
      'StartLogging',
    ]);
  });

  it('accepts a retried write of the same run without a second item or a second count', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'retry-trail');
    const ctx = await notified(deps, 'retry-trail');
    const { counted, observability } = counter();

    const first = await auditStep(deps, observability)(ctx);
    const second = await auditStep(deps, observability)(ctx);

    expect(second).toEqual(first);
    expect(await itemCount()).toBe(1);
    expect(counted).toEqual(['remediated']);
  });

  it('refuses to overwrite another run holding the same key', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'clash-trail');
    const ctx = await notified(deps, 'clash-trail');
    const doc = DynamoDBDocumentClient.from(testClients().dynamo());
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          trail: trailArnOf('clash-trail'),
          run: `${ctx.execution.startTime}#${ctx.execution.id}`,
          executionId: `arn:aws:states:${REGION}:${ACCOUNT}:execution:other:run`,
        },
      }),
    );

    const error = await auditStep(deps)(ctx).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AuditWriteError);
    expect((error as Error).cause).toBeDefined();
    expect(await itemCount()).toBe(1);
  });

  it('records a failed run from the failure envelope, including a failed notification', async () => {
    const deps = await makeDeps();
    const { counted, observability } = counter();
    const envelope = {
      failed: {
        ...stopLoggingEvent('management-events'),
        error: {
          Error: 'AwsReadError',
          Cause: JSON.stringify({ errorMessage: 'GetTrail failed: AccessDenied' }),
        },
      },
      execution: execution(9),
      notificationError: { Error: 'NotificationError', Cause: 'Publish failed: topic gone' },
    };

    const out = RunContextSchema.parse(await auditStep(deps, observability)(envelope));

    expect(out.outcome).toBe('failed');
    const [record] = await listAuditRecords(deps.clients, TABLE, { trail: 'management-events' });
    expect(record).toMatchObject({
      trail: 'management-events',
      outcome: 'failed',
      severity: 'HIGH',
      error: { name: 'AwsReadError', message: 'GetTrail failed: AccessDenied' },
      notification: { error: { name: 'NotificationError', message: 'Publish failed: topic gone' } },
      actor: { sourceIp: '203.0.113.7' },
    });
    expect(record?.stateAfter).toBeUndefined();
    expect(counted).toEqual(['failed']);
  });

  it('lists records newest first, by trail ARN, by trail name or all', async () => {
    const deps = await makeDeps({ config: { mode: 'notify-only' } });
    await createTrail(deps.clients, 'alpha-trail');
    await createTrail(deps.clients, 'beta-trail');
    for (const [trail, n] of [
      ['alpha-trail', 1],
      ['beta-trail', 2],
      ['alpha-trail', 3],
      ['gone-trail', 4],
    ] as const) {
      await auditStep(deps)(await notifyStep(deps)(await checkContext(deps, trail, n)));
    }

    const byArn = await listAuditRecords(deps.clients, TABLE, { trail: trailArnOf('alpha-trail') });
    expect(byArn.map((r) => r.executionId)).toEqual([execution(3).id, execution(1).id]);
    const byName = await listAuditRecords(deps.clients, TABLE, { trail: 'alpha-trail' });
    expect(byName.map((r) => r.executionId)).toEqual([execution(3).id, execution(1).id]);
    const gone = await listAuditRecords(deps.clients, TABLE, { trail: 'gone-trail' });
    expect(gone.map((r) => [r.trail, r.outcome, r.reason])).toEqual([
      ['gone-trail', 'skipped', 'trail no longer exists'],
    ]);
    const all = await listAuditRecords(deps.clients, TABLE);
    expect(all.map((r) => r.executionId)).toEqual([4, 3, 2, 1].map((n) => execution(n).id));
    expect(await listAuditRecords(deps.clients, TABLE, { limit: 2 })).toHaveLength(2);
    expect(
      await listAuditRecords(deps.clients, TABLE, { trail: trailArnOf('alpha-trail'), limit: 1 }),
    ).toHaveLength(1);
    // A notified run changed nothing: its state after is the state read before, marked unverified.
    expect(byName[0]?.stateAfter).toMatchObject({ logging: false, verified: false });
  });

  it('creates the table and the topic once', async () => {
    const clients = testClients();
    expect(await ensureAuditTable(clients, 'setup-audit')).toEqual({
      tableName: 'setup-audit',
      created: true,
    });
    expect(await ensureAuditTable(clients, 'setup-audit')).toEqual({
      tableName: 'setup-audit',
      created: false,
    });
    const first = await ensureTopic(clients, 'setup-topic');
    const second = await ensureTopic(clients, 'setup-topic');
    expect(first).toEqual({ topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:setup-topic`, created: true });
    expect(second).toEqual({ ...first, created: false });
  });

  it('refuses an existing table with other keys', async () => {
    const clients = testClients();
    await clients.dynamo().send(
      new CreateTableCommand({
        TableName: 'not-audit',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await expect(ensureAuditTable(clients, 'not-audit')).rejects.toThrow(
      /needs trail \(HASH\) and run \(RANGE\)/,
    );
  });
});
