/**
 * RunContexts built by hand for the pure unit tests (no emulator): a broken trail and its fixed state, in the
 * account and region of the project (test/support/aws.ts; moto's default ones in the unit project).
 */
import { parseConfig } from '../../policies/config.js';
import { assess } from '../../services/domain/assess.js';
import { type RunContext, RunContextSchema } from '../../services/domain/run-context.js';
import type { TrailState } from '../../services/domain/trail-state.js';
import { ACCOUNT, REGION } from './aws.js';

export { ACCOUNT, REGION };
export const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/management-events`;
export const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/management-events:*`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`;
export const EXECUTION = {
  id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:trailguard:run-1`,
  startTime: '2025-06-01T11:59:00.000Z',
};

export function brokenState(): TrailState {
  return {
    region: REGION,
    accountId: ACCOUNT,
    partition: 'aws',
    trail: {
      name: 'management-events',
      trailArn: TRAIL_ARN,
      homeRegion: REGION,
      isMultiRegionTrail: true,
      isOrganizationTrail: false,
      s3BucketName: 'bucket',
    },
    status: { isLogging: false },
    tags: {},
  };
}

export function fixedState(): TrailState {
  const state = brokenState();
  return {
    ...state,
    trail: { ...state.trail, cloudWatchLogsLogGroupArn: GROUP_ARN, cloudWatchLogsRoleArn: ROLE_ARN },
    status: { isLogging: true },
    logGroup: { name: 'CloudTrail/management-events', exists: true, retentionInDays: 365 },
    role: {
      name: 'trailguard-cloudtrail-delivery',
      arn: ROLE_ARN,
      exists: true,
      trustPolicy: {
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
      permissionPolicies: [
        {
          name: 'p',
          document: {
            Statement: [
              {
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/management-events:*`,
              },
            ],
          },
        },
      ],
    },
  };
}

/** A run Check sent to remediation (an admin's StopLogging event), before the restore steps. */
export function remediateContext(): RunContext {
  const state = brokenState();
  return RunContextSchema.parse({
    execution: EXECUTION,
    trigger: {
      kind: 'event',
      eventId: 'evt-1',
      eventName: 'StopLogging',
      eventSource: 'cloudtrail.amazonaws.com',
      eventTime: '2025-06-01T11:58:00Z',
      actorArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
      actorType: 'AssumedRole',
      sourceIp: '203.0.113.7',
      userAgent: 'aws-cli/2.15.0',
    },
    trailRef: { id: 'management-events', region: REGION },
    account: ACCOUNT,
    decision: 'remediate',
    reason: 'findings to remediate: LOG_GROUP_ARN_MISSING, ROLE_ARN_MISSING, LOGGING_STOPPED',
    trailArn: TRAIL_ARN,
    before: { state, assessment: assess(state, parseConfig({})) },
  });
}

/** The same run after Verify (and Notify). */
export function remediatedContext(): RunContext {
  const ctx = remediateContext();
  return RunContextSchema.parse({
    ...ctx,
    actions: [
      {
        step: 'RestoreLogGroup',
        api: 'CreateLogGroup',
        resource: 'CloudTrail/management-events',
        detail: 'created log group CloudTrail/management-events',
      },
      { step: 'RestoreTrail', api: 'StartLogging', resource: TRAIL_ARN, detail: 'started logging' },
    ],
    after: { state: fixedState(), findings: [] },
    outcome: 'remediated',
    notification: {
      messageId: 'msg-1',
      subject: `[trailguard] REMEDIATED: trail management-events (${REGION})`,
    },
  });
}
