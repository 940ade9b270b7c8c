/**
 * Shared setup for the reliability end-to-end tests: the guardrail's topic and audit table in moto, CloudTrail
 * events in EventBridge's shape (an administrator's, or the guardrail's own calls), and independent reads of
 * what the runs left behind (raw SDK clients without fault injection).
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ensureAuditTable } from '../../../services/aws/audit-store.js';
import { ensureTopic } from '../../../services/aws/notifier.js';
import { ensureIdempotencyTable } from '../../../services/aws/notify-once.js';
import { ensureStateTable, localStateTableName } from '../../../services/aws/state-store.js';
import type { AuditRecord } from '../../../services/domain/audit-record.js';
import type { Action } from '../../../services/domain/run-context.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator, testClients } from '../../support/aws.js';

export const TOPIC = 'trailguard-notifications';
export const TABLE = 'trailguard-audit';
/** Notify's idempotency table under the name the local runner resolves it to (localIdempotencyTableName). */
export const IDEMPOTENCY_TABLE = 'trailguard-audit-idempotency';
export const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
export const ADMIN = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`;
/** The guardrail's own role as the rule excludes it (replayEvent's `ownRoleArn`). */
export const OWN_ROLE = `arn:aws:iam::${ACCOUNT}:role/trailguard-RestoreTrailRole`;

/**
 * A clean emulator with the guardrail's topic, audit table and Notify's idempotency table (default names of
 * the synthesized stack).
 */
export async function freshGuardrail(): Promise<void> {
  await resetEmulator();
  const clients = testClients();
  await ensureTopic(clients, TOPIC);
  await ensureAuditTable(clients, TABLE);
  await ensureStateTable(clients, localStateTableName({ auditTableName: TABLE }));
  await ensureIdempotencyTable(clients, IDEMPOTENCY_TABLE);
}

let eventCounter = 0;

/** The services whose API calls the tests replay: the trail itself, its log group, its delivery role. */
const SERVICES = {
  cloudtrail: { source: 'aws.cloudtrail', eventSource: 'cloudtrail.amazonaws.com' },
  logs: { source: 'aws.logs', eventSource: 'logs.amazonaws.com' },
  iam: { source: 'aws.iam', eventSource: 'iam.amazonaws.com' },
} as const;

export interface EventOptions {
  /** The service called (default cloudtrail). */
  service?: keyof typeof SERVICES;
  /** The role whose session made the call (sessionContext.sessionIssuer.arn). Default: Admin. */
  issuerRoleArn?: string;
  /** Session name (the last part of the assumed-role ARN). */
  session?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  sourceIp?: string;
}

/** An API call recorded by CloudTrail as EventBridge delivers it, made by an assumed-role session. */
export function cloudTrailEvent(eventName: string, trail: string, options: EventOptions = {}) {
  eventCounter++;
  const service = SERVICES[options.service ?? 'cloudtrail'];
  const issuer = options.issuerRoleArn ?? ADMIN_ROLE;
  const roleName = issuer.split('/').at(-1) ?? 'role';
  const session = options.session ?? 'alice';
  const id = `00000000-0000-4000-8000-${String(eventCounter).padStart(12, '0')}`;
  return {
    version: '0',
    id,
    'detail-type': 'AWS API Call via CloudTrail',
    source: service.source as string,
    account: ACCOUNT,
    time: '2026-11-20T14:03:11Z',
    region: REGION,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        principalId: `AROAEXAMPLE:${session}`,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${session}`,
        accountId: ACCOUNT,
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: issuer, accountId: ACCOUNT, userName: roleName },
        },
      },
      eventTime: '2026-11-20T14:03:11Z',
      eventSource: service.eventSource as string,
      eventName,
      awsRegion: REGION,
      sourceIPAddress: options.sourceIp ?? '203.0.113.7',
      userAgent: 'aws-cli/2.15.0',
      requestParameters:
        options.requestParameters === undefined ? { name: trail } : options.requestParameters,
      responseElements: options.responseElements === undefined ? null : options.responseElements,
      eventID: id.replace(/^0/, 'e'),
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
    },
  };
}

/**
 * The CloudTrail events the guardrail's own writes produce, as AWS would deliver them: one per action of the
 * run that touched a trail (UpdateTrail, StartLogging), made by the given role's session.
 */
export function ownEvents(actions: readonly Action[], roleArn: string) {
  return actions
    .filter((a) => a.api === 'UpdateTrail' || a.api === 'StartLogging')
    .map((a) => {
      const name = a.resource.split('/').at(-1) ?? a.resource;
      return cloudTrailEvent(a.api, name, {
        issuerRoleArn: roleArn,
        session: 'trailguard-restore-trail',
        requestParameters: { name: a.resource },
        responseElements: a.api === 'UpdateTrail' ? { name, trailARN: a.resource } : null,
      });
    });
}

/** An audit item as stored (typed after the record the product writes; every field may be missing). */
export type AuditItem = Partial<AuditRecord>;

/** Every item of the audit table, read with a plain scan. */
export async function auditItems(): Promise<AuditItem[]> {
  const doc = DynamoDBDocumentClient.from(testClients().dynamo());
  const out = await doc.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return (out.Items ?? []) as AuditItem[];
}

export async function mails() {
  return emulatorNotifications();
}

export function subjects(list: { subject: string | null }[]): string[] {
  return list.map((m) => m.subject ?? '');
}
