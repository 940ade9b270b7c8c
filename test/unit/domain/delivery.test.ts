import { describe, expect, it } from 'vitest';
import {
  classifyDeliveryError,
  DeliveryCheckSchema,
  deliveryErrorFinding,
  deliveryTargetOf,
  isLater,
  judgeDelivery,
} from '../../../services/domain/delivery.js';
import { FINDING_CODES, type FindingCode } from '../../../services/domain/findings.js';
import { fixedState } from '../../support/run-contexts.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-2';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ct-delivery`;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const STREAM = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main:log-stream:${ACCOUNT}_CloudTrail_${REGION}_1`;
const TARGET = {
  partition: 'aws',
  accountId: ACCOUNT,
  logGroupName: 'CloudTrail/main',
  roleName: 'ct-delivery',
  trailArn: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/main`,
};
/** The AWS SDK for Java's rendering of a service error, as CloudTrail (a Java service) would report it. */
const java = (message: string, service: string, code: string) =>
  `${message} (Service: ${service}; Status Code: 400; Error Code: ${code}; Request ID: 6b7806a6-2c16-4582-9ecd-05100161746e; Proxy: null)`;

/** Realistic delivery errors of each class, built from the codes and messages the services document. */
const EXAMPLES: Record<FindingCode & `DELIVERY_${string}`, string[]> = {
  DELIVERY_ROLE_NOT_ASSUMABLE: [
    java(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/CloudTrailService/session is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
      'AWSSecurityTokenService',
      'AccessDenied',
    ),
    'An error occurred (AccessDenied) when calling the AssumeRole operation: Access denied',
    `Unable to assume role ${ROLE}`,
  ],
  DELIVERY_ACCESS_DENIED: [
    java(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/ct-delivery/CloudTrailSession is not authorized to perform: logs:PutLogEvents on resource: ${STREAM}`,
      'AWSLogs',
      'AccessDeniedException',
    ),
    `AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/ct-delivery/s is not authorized to perform: logs:CreateLogStream on resource: ${STREAM} with an explicit deny in a service control policy`,
    // A log group whose name contains "kms" is not a KMS error.
    `User: arn:aws:sts::${ACCOUNT}:assumed-role/ct-delivery/s is not authorized to perform: logs:PutLogEvents on resource: arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/kms-audit:log-stream:x`,
    "AccessDeniedException: You don't have sufficient permissions to perform this action.",
    'Access denied',
  ],
  DELIVERY_LOG_GROUP_MISSING: [
    java('The specified log group does not exist.', 'AWSLogs', 'ResourceNotFoundException'),
    'ResourceNotFoundException: The specified resource does not exist.',
    'resourcenotfoundexception',
  ],
  DELIVERY_KMS_KEY_DISABLED: [
    java(`${KEY} is disabled.`, 'AWSKMS', 'DisabledException'),
    java(`${KEY} is pending deletion.`, 'AWSKMS', 'KMSInvalidStateException'),
    'The request was rejected because the specified KMS key is not enabled.',
    java(`Key '${KEY}' does not exist`, 'AWSKMS', 'NotFoundException'),
  ],
  DELIVERY_KMS_ACCESS_DENIED: [
    java(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/ct-delivery/s is not authorized to perform: kms:GenerateDataKey on resource: ${KEY} because no resource-based policy allows the kms:GenerateDataKey action`,
      'AWSKMS',
      'AccessDeniedException',
    ),
    `The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main'`,
    'KmsAccessDeniedException: access to the key was denied',
  ],
  DELIVERY_THROTTLED: [
    java('Rate exceeded', 'AWSLogs', 'ThrottlingException'),
    'ThrottlingException: The request was throttled because of quota limits.',
    'rate exceeded',
  ],
  DELIVERY_ERROR: [
    java(
      'Log event too large: 1048577 bytes exceeds limit of 1048576',
      'AWSLogs',
      'InvalidParameterException',
    ),
    'InternalFailure',
    'something nobody has seen before',
  ],
};

describe('classifyDeliveryError', () => {
  for (const [code, errors] of Object.entries(EXAMPLES)) {
    for (const error of errors) {
      it(`${code}: ${error.slice(0, 80)}`, () => {
        expect(classifyDeliveryError(error, REGION).code).toBe(code);
      });
    }
  }

  it('has an example for every delivery finding code', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(
      FINDING_CODES.filter((c) => c.startsWith('DELIVERY_')).sort(),
    );
  });

  it('matches case-insensitively', () => {
    expect(classifyDeliveryError('THROTTLINGEXCEPTION', REGION).code).toBe('DELIVERY_THROTTLED');
    expect(classifyDeliveryError('not authorized to perform: STS:ASSUMEROLE', REGION).code).toBe(
      'DELIVERY_ROLE_NOT_ASSUMABLE',
    );
    expect(classifyDeliveryError('kmsinvalidstateexception', REGION).code).toBe('DELIVERY_KMS_KEY_DISABLED');
  });

  it('puts KMS access denied before the generic access denied, and assume-role before both', () => {
    const kms = `AccessDeniedException: not authorized to perform: kms:Encrypt on resource: ${KEY}`;
    expect(classifyDeliveryError(kms, REGION).code).toBe('DELIVERY_KMS_ACCESS_DENIED');
    expect(
      classifyDeliveryError('AccessDenied: not authorized to perform: sts:AssumeRole', REGION).code,
    ).toBe('DELIVERY_ROLE_NOT_ASSUMABLE');
    expect(
      classifyDeliveryError('AccessDenied: not authorized to perform: logs:PutLogEvents', REGION).code,
    ).toBe('DELIVERY_ACCESS_DENIED');
  });

  it('gives the exact key policy statement for a KMS denial, for the region and the log group', () => {
    const error = EXAMPLES.DELIVERY_KMS_ACCESS_DENIED[0] ?? '';
    const { nextStep, cause } = classifyDeliveryError(error, REGION, TARGET);
    expect(cause).toContain(`logs.${REGION}.amazonaws.com`);
    expect(nextStep).toContain(`service principal logs.${REGION}.amazonaws.com`);
    for (const action of [
      'kms:Encrypt*',
      'kms:Decrypt*',
      'kms:ReEncrypt*',
      'kms:GenerateDataKey*',
      'kms:Describe*',
    ]) {
      expect(nextStep).toContain(action);
    }
    expect(nextStep).toContain(
      `ArnLike kms:EncryptionContext:aws:logs:arn = arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main`,
    );
    expect(nextStep).toContain('Encrypt log data in CloudWatch Logs using AWS Key Management Service');
    expect(nextStep).toContain('trailguard never changes KMS key policies');
  });

  it("uses the region's partition and placeholders when the target is unknown", () => {
    const { nextStep } = classifyDeliveryError(EXAMPLES.DELIVERY_KMS_ACCESS_DENIED[0] ?? '', 'cn-north-1');
    expect(nextStep).toContain(
      'kms:EncryptionContext:aws:logs:arn = arn:aws-cn:logs:cn-north-1:<account id>:log-group:<log group name>',
    );
  });

  it('says for each remediable code what trailguard does in remediate mode and a person in notify-only mode', () => {
    const fixes: Partial<Record<FindingCode, RegExp>> = {
      DELIVERY_ROLE_NOT_ASSUMABLE: /trust policy that lets the service principal cloudtrail\.amazonaws\.com/,
      DELIVERY_ACCESS_DENIED:
        /re-grants logs:CreateLogStream and logs:PutLogEvents on arn:aws:logs:eu-west-2:111122223333:log-group:CloudTrail\/main:log-stream:111122223333_CloudTrail_eu-west-2\*/,
      DELIVERY_LOG_GROUP_MISSING: /recreates the log group "CloudTrail\/main"/,
    };
    for (const [code, fix] of Object.entries(fixes)) {
      const { nextStep } = classifyDeliveryError(
        EXAMPLES[code as keyof typeof EXAMPLES][0] ?? '',
        REGION,
        TARGET,
      );
      expect(nextStep).toMatch(/^In remediate mode trailguard /);
      expect(nextStep).toMatch(fix);
      expect(nextStep).toContain('In notify-only mode a person ');
      expect(nextStep).toContain(`trailguard check --trail ${TARGET.trailArn}`);
    }
  });

  it('tells a person to enable a disabled key, and changes nothing itself', () => {
    const { nextStep } = classifyDeliveryError(EXAMPLES.DELIVERY_KMS_KEY_DISABLED[1] ?? '', REGION, TARGET);
    expect(nextStep).toContain('trailguard never changes KMS keys');
    expect(nextStep).toContain('aws kms enable-key --key-id <kmsKeyId>');
    expect(nextStep).toContain('aws kms cancel-key-deletion --key-id <kmsKeyId>');
  });

  it('does not choke on a huge error', () => {
    const huge = `${'x'.repeat(100_000)} ThrottlingException`;
    expect(classifyDeliveryError(huge, REGION).code).toBe('DELIVERY_ERROR');
  });
});

describe('deliveryErrorFinding', () => {
  const error = EXAMPLES.DELIVERY_ACCESS_DENIED[0] ?? '';

  it('is undefined without a status or an error', () => {
    expect(deliveryErrorFinding(undefined, REGION)).toBeUndefined();
    expect(deliveryErrorFinding({ isLogging: true }, REGION)).toBeUndefined();
    expect(
      deliveryErrorFinding({ isLogging: true, latestCloudWatchLogsDeliveryError: '  ' }, REGION),
    ).toBeUndefined();
  });

  it('classifies the error and quotes it with its cause', () => {
    const f = deliveryErrorFinding({ isLogging: true, latestCloudWatchLogsDeliveryError: error }, REGION);
    expect(f?.code).toBe('DELIVERY_ACCESS_DENIED');
    expect(f?.remediable).toBe(true);
    expect(f?.message).toMatch(/^CloudTrail's delivery to CloudWatch Logs failed: "User: arn:aws:sts::/);
    expect(f?.message).toContain(
      'CloudWatch Logs denied the delivery role logs:CreateLogStream or logs:PutLogEvents',
    );
    const kms = deliveryErrorFinding(
      { isLogging: true, latestCloudWatchLogsDeliveryError: EXAMPLES.DELIVERY_KMS_KEY_DISABLED[0] ?? '' },
      REGION,
    );
    expect(kms).toMatchObject({ code: 'DELIVERY_KMS_KEY_DISABLED', remediable: false });
  });

  it('is stale (no finding) when CloudTrail delivered after the error was first seen', () => {
    const status = {
      isLogging: true,
      latestCloudWatchLogsDeliveryError: error,
      latestCloudWatchLogsDeliveryTime: '2025-06-01T12:05:00.000Z',
    };
    expect(deliveryErrorFinding(status, REGION, '2025-06-01T12:00:00.000Z')).toBeUndefined();
    // Delivered before the error was first seen, or at the same instant: the error is current.
    expect(deliveryErrorFinding(status, REGION, '2025-06-01T12:10:00.000Z')?.code).toBe(
      'DELIVERY_ACCESS_DENIED',
    );
    expect(deliveryErrorFinding(status, REGION, '2025-06-01T12:05:00.000Z')?.code).toBe(
      'DELIVERY_ACCESS_DENIED',
    );
    // Not known when it was first seen: current (conservative).
    expect(deliveryErrorFinding(status, REGION)?.code).toBe('DELIVERY_ACCESS_DENIED');
    // Never delivered: current.
    expect(
      deliveryErrorFinding(
        { isLogging: true, latestCloudWatchLogsDeliveryError: error },
        REGION,
        '2025-06-01T12:00:00Z',
      )?.code,
    ).toBe('DELIVERY_ACCESS_DENIED');
  });

  it('cleans and caps the quoted error', () => {
    const nasty = `AccessDenied\n\rFAKE: line https://evil.example/x ${'y'.repeat(2000)}`;
    const f = deliveryErrorFinding({ isLogging: true, latestCloudWatchLogsDeliveryError: nasty }, REGION);
    expect(f?.message).not.toMatch(/[\n\r]/);
    expect(f?.message).not.toContain('https://');
    expect(f?.message).toContain('https[:]//evil.example/x');
    expect(f?.message.length).toBeLessThan(600);
  });
});

describe('judgeDelivery', () => {
  const FIXED = '2025-06-01T12:00:00.000Z';
  const CHECKED = '2025-06-01T12:15:00.000Z';
  const judge = (status: { error?: string; time?: string; isLogging?: boolean }, errorBefore?: string) =>
    judgeDelivery({
      status: {
        isLogging: status.isLogging ?? true,
        ...(status.error ? { latestCloudWatchLogsDeliveryError: status.error } : {}),
        ...(status.time ? { latestCloudWatchLogsDeliveryTime: status.time } : {}),
      },
      fixedAt: FIXED,
      checkedAt: CHECKED,
      waitedMinutes: 15,
      region: REGION,
      target: TARGET,
      ...(errorBefore ? { errorBefore } : {}),
    });
  const accessDenied = EXAMPLES.DELIVERY_ACCESS_DENIED[0] ?? '';
  const groupMissing = EXAMPLES.DELIVERY_LOG_GROUP_MISSING[0] ?? '';

  it('confirms a delivery after the fix with no error', () => {
    const check = judge({ time: '2025-06-01T12:04:30.000Z' });
    expect(check).toEqual({
      status: 'confirmed',
      fixedAt: FIXED,
      checkedAt: CHECKED,
      waitedMinutes: 15,
      latestDeliveryTime: '2025-06-01T12:04:30.000Z',
      summary: `CloudTrail delivered to CloudWatch Logs at 2025-06-01T12:04:30.000Z, after the fix at ${FIXED}.`,
    });
    expect(DeliveryCheckSchema.parse(check)).toEqual(check);
  });

  it('confirms a delivery after the fix when the only error is the one from before the fix', () => {
    const check = judge({ time: '2025-06-01T12:04:30.000Z', error: groupMissing }, groupMissing);
    expect(check.status).toBe('confirmed');
    expect(check.finding).toBeUndefined();
    expect(check.nextStep).toBeUndefined();
    expect(check.summary).toContain('is the one from before the fix');
  });

  it('does not count a delivery at exactly the fix time as after it', () => {
    expect(judge({ time: FIXED }).status).toBe('no-delivery');
    expect(judge({ time: FIXED, error: groupMissing }, groupMissing).status).toBe('error');
    expect(judge({ time: '2025-06-01T12:00:00.001Z' }).status).toBe('confirmed');
  });

  it('reports a new error with no delivery since the fix, classified, with its next step', () => {
    const check = judge({ error: accessDenied, time: '2025-06-01T11:00:00.000Z' }, groupMissing);
    expect(check.status).toBe('error');
    expect(check.finding).toMatchObject({ code: 'DELIVERY_ACCESS_DENIED', remediable: true });
    expect(check.nextStep).toBe(classifyDeliveryError(accessDenied, REGION, TARGET).nextStep);
    expect(check.summary).toContain('a delivery error it did not report before the fix');
    expect(check.summary).toContain('latest delivery: 2025-06-01T11:00:00.000Z');
    expect(check.latestDeliveryError).toBe(accessDenied);
    expect(DeliveryCheckSchema.parse(check)).toEqual(check);
  });

  it('reports a new error even after a delivery, and says the error may predate that delivery', () => {
    const check = judge({ error: accessDenied, time: '2025-06-01T12:05:00.000Z' });
    expect(check.status).toBe('error');
    expect(check.summary).toContain('although it also delivered at 2025-06-01T12:05:00.000Z');
  });

  it('reports the error from before the fix when nothing was delivered since', () => {
    const check = judge({ error: groupMissing }, groupMissing);
    expect(check.status).toBe('error');
    expect(check.finding?.code).toBe('DELIVERY_LOG_GROUP_MISSING');
    expect(check.summary).toContain(
      'already reported before the fix, and has delivered nothing since the fix',
    );
    expect(check.summary).toContain('latest delivery: none');
  });

  it('describes no delivery and no error honestly, not as a failure', () => {
    const check = judge({ time: '2025-06-01T09:00:00.000Z' });
    expect(check.status).toBe('no-delivery');
    expect(check.finding).toBeUndefined();
    expect(check.latestDeliveryError).toBeUndefined();
    expect(check.summary).toContain(
      `CloudTrail delivered nothing to CloudWatch Logs in the 15 minutes since the fix at ${FIXED} (latest delivery: 2025-06-01T09:00:00.000Z) and reports no delivery error.`,
    );
    expect(check.summary).toContain('expected when the trail had no events to deliver');
    expect(check.summary).toContain('data events');
    expect(check.summary).toContain('management events are excluded');
    expect(check.summary).toContain('it does not mean that delivery failed');
    expect(check.nextStep).toContain('newest log stream of the log group "CloudTrail/main"');
    expect(check.nextStep).toContain(
      'aws logs describe-log-streams --log-group-name CloudTrail/main --order-by LastEventTime --descending',
    );
    expect(check.nextStep).toContain(`trailguard check --trail ${TARGET.trailArn}`);
    expect(DeliveryCheckSchema.parse(check)).toEqual(check);
  });

  it('says so when the trail stopped logging after the fix', () => {
    const check = judge({ isLogging: false });
    expect(check.status).toBe('no-delivery');
    expect(check.summary).toContain('The trail is not logging now');
    expect(check.nextStep).toMatch(/^Find out who stopped logging/);
    expect(judge({}).summary).not.toContain('not logging');
  });

  it('keeps the error cleaned and capped', () => {
    const check = judge({ error: `AccessDenied\nhttps://x.example/${'z'.repeat(5000)}` });
    expect(check.latestDeliveryError?.length).toBeLessThanOrEqual(512);
    expect(check.latestDeliveryError).not.toMatch(/\n|:\/\//);
    expect(check.summary.length).toBeLessThan(1000);
  });

  it('treats an unreadable time as no delivery', () => {
    expect(judge({ time: 'yesterday' }).status).toBe('no-delivery');
    expect(isLater('yesterday', FIXED)).toBe(false);
    expect(isLater(undefined, FIXED)).toBe(false);
  });
});

describe('deliveryTargetOf', () => {
  it('takes the names from the trail state', () => {
    const state = fixedState();
    expect(deliveryTargetOf(state)).toEqual({
      partition: 'aws',
      accountId: state.accountId,
      trailArn: state.trail.trailArn,
      logGroupName: 'CloudTrail/management-events',
      roleName: 'trailguard-cloudtrail-delivery',
    });
  });
});
