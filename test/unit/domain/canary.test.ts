import { describe, expect, it } from 'vitest';
import {
  actorOf,
  assertNotRecursive,
  type BREAKS,
  breakEvent,
  canaryBucketName,
  canaryNames,
  canarySelectors,
  cloudTrailStreamPrefix,
  deliveryFilterPattern,
  firstRunAfter,
  isCanaryTrail,
  isDeliveredObjectEvent,
  judgeCase,
  missingText,
  objectArnPrefix,
  reportOfRecord,
  selectorProblems,
  selftestReport,
} from '../../../services/domain/canary.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import {
  parseCloudTrailEvent,
  parseDependencyEvent,
  parseWorkflowInput,
} from '../../../services/domain/events.js';
import { ACCOUNT, REGION } from '../../support/aws.js';

const names = canaryNames('0a1b2c3d4e', REGION);
const BUCKET = canaryBucketName(ACCOUNT, REGION, '0a1b2c3d4e');

describe('canary names', () => {
  it('every name starts with trailguard-canary- and carries the run and region; the bucket name is valid for S3', () => {
    expect(names.trail).toBe(`trailguard-canary-0a1b2c3d4e-${REGION}`);
    expect(names.logGroup).toBe(names.trail);
    expect(names.role).toBe(names.trail);
    expect(BUCKET).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    expect(isCanaryTrail(names.trail)).toBe(true);
    expect(isCanaryTrail(`arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${names.trail}`)).toBe(true);
    expect(isCanaryTrail('management-events')).toBe(false);
    expect(isCanaryTrail(undefined)).toBe(false);
    expect(() => canaryNames('Bad_Run', REGION)).toThrow(InvalidInputError);
  });
});

describe('the canary’s event selector (CloudTrail User Guide, "Filtering data events by using advanced event selectors")', () => {
  it('data events only (eventCategory Equals Data; no management events), S3 objects under its own object prefix', () => {
    expect(canarySelectors('aws', BUCKET, names)).toEqual([
      {
        Name: 'trailguard canary: data events on its own objects only',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
          {
            Field: 'resources.ARN',
            StartsWith: [`arn:aws:s3:::${BUCKET}/trailguard-canary/0a1b2c3d4e/${REGION}/objects/`],
          },
        ],
      },
    ]);
  });

  it('never covers the trail’s own delivery prefix (recursive logging), in either direction', () => {
    const delivery = names.deliveryPrefix;
    expect(() => assertNotRecursive(objectArnPrefix('aws', BUCKET, ''), 'aws', BUCKET, delivery)).toThrow(
      /recursive/,
    );
    expect(() =>
      assertNotRecursive(objectArnPrefix('aws', BUCKET, 'trailguard-canary/'), 'aws', BUCKET, delivery),
    ).toThrow(/recursive/);
    expect(() =>
      assertNotRecursive(objectArnPrefix('aws', BUCKET, `${delivery}/AWSLogs/`), 'aws', BUCKET, delivery),
    ).toThrow(/recursive/);
    expect(() => canarySelectors('aws', BUCKET, { ...names, objectPrefix: `${delivery}/` })).toThrow(
      InvalidInputError,
    );
    expect(() =>
      assertNotRecursive(objectArnPrefix('aws', BUCKET, names.objectPrefix), 'aws', BUCKET, delivery),
    ).not.toThrow();
  });

  it('selectorProblems: the canary’s own selectors read back are right; anything else is named', () => {
    const good = canarySelectors('aws', BUCKET, names);
    expect(
      selectorProblems({ EventSelectors: [], AdvancedEventSelectors: good }, 'aws', BUCKET, names),
    ).toEqual([]);
    expect(
      selectorProblems(
        {
          EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }],
          AdvancedEventSelectors: [],
        },
        'aws',
        BUCKET,
        names,
      ),
    ).toEqual(expect.arrayContaining(['basic event selectors are set', '0 advanced event selectors, not 1']));
    const management = [{ Name: 'm', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }];
    expect(selectorProblems({ AdvancedEventSelectors: management }, 'aws', BUCKET, names)).toContain(
      'eventCategory is not Equals Data',
    );
  });
});

describe('the events the breaks produce', () => {
  const actor = actorOf(`arn:aws:sts::${ACCOUNT}:assumed-role/ops/selftest`);
  const input = (b: (typeof BREAKS)[number]) => ({
    break: b,
    id: '11111111-2222-4333-8444-555555555555',
    account: ACCOUNT,
    region: REGION,
    partition: 'aws',
    time: new Date('2026-12-07T10:00:00.123Z'),
    actor,
    trailArn: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${names.trail}`,
    logGroup: names.logGroup,
    role: names.role,
  });

  it('the actor of an assumed-role session names its role (what an own-role exclusion compares)', () => {
    expect(actor).toEqual({
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/selftest`,
      type: 'AssumedRole',
      sessionIssuerArn: `arn:aws:iam::${ACCOUNT}:role/ops`,
    });
    expect(actorOf(`arn:aws:iam::${ACCOUNT}:user/alice`)).toEqual({
      arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      type: 'IAMUser',
    });
  });

  it('UpdateTrail and StopLogging name the canary trail; the trail rule’s input parses them', () => {
    for (const b of ['UpdateTrail', 'StopLogging'] as const) {
      const event = breakEvent(input(b));
      const parsed = parseWorkflowInput(event);
      expect(parsed.trail.id).toBe(input(b).trailArn);
      expect(parsed.trigger).toMatchObject({
        kind: 'event',
        eventName: b,
        eventTime: '2026-12-07T10:00:00Z',
      });
      expect(parsed.trigger.actorArn).toBe(actor.arn);
    }
    expect(
      (breakEvent(input('UpdateTrail')).detail as { requestParameters: unknown }).requestParameters,
    ).toEqual({
      name: input('UpdateTrail').trailArn,
      cloudWatchLogsLogGroupArn: '',
      cloudWatchLogsRoleArn: '',
    });
  });

  it('DeleteLogGroup and DeleteRolePolicy are dependency changes; IAM’s event is in us-east-1', () => {
    const group = breakEvent(input('DeleteLogGroup'));
    expect(parseCloudTrailEvent(group)).toMatchObject({ source: 'aws.logs', region: REGION });
    expect(parseDependencyEvent(group)).toBeDefined();
    const role = breakEvent(input('DeleteRolePolicy'));
    expect(parseCloudTrailEvent(role)).toMatchObject({ source: 'aws.iam', region: 'us-east-1' });
    expect((role.detail as { awsRegion: string }).awsRegion).toBe('us-east-1');
    expect(parseDependencyEvent(role)).toBeDefined();
  });
});

describe('judgeCase: the canary’s own re-read decides, the engine only says where it went missing', () => {
  const fine = { problems: [], auditRecord: 'found' as const };
  it('fixed only when the run remediated, the re-read is clean and the audit record is there', () => {
    expect(judgeCase({ outcome: 'remediated', executionId: 'e' }, fine)).toEqual({ fixed: true });
  });
  it('no run: no event arrived', () => {
    const v = judgeCase({ noRun: "the stack's rules do not match" }, fine);
    expect(v.fixed).toBe(false);
    expect(!v.fixed && missingText(v.missing)).toBe(
      "no event arrived (rule, forwarding or bus policy): the stack's rules do not match",
    );
  });
  it('a failed run: the step and the error', () => {
    const v = judgeCase(
      {
        outcome: 'failed',
        executionId: 'e',
        failure: { step: 'Audit', name: 'AuditWriteError', message: 'no table' },
      },
      { problems: [], auditRecord: 'missing' },
    );
    expect(!v.fixed && missingText(v.missing)).toBe(
      'the run failed at step Audit with AuditWriteError: no table',
    );
  });
  it('a run that says remediated while the canary is still broken, or without its audit record: not verified', () => {
    const broken = judgeCase(
      { outcome: 'remediated', executionId: 'e' },
      { problems: ['the trail is not logging'], auditRecord: 'found' },
    );
    expect(!broken.fixed && missingText(broken.missing)).toMatch(
      /^the fix was not verified: .*the trail is not logging/,
    );
    const unrecorded = judgeCase(
      { outcome: 'remediated', executionId: 'e' },
      { problems: [], auditRecord: 'missing' },
    );
    expect(!unrecorded.fixed && missingText(unrecorded.missing)).toMatch(/no audit record of execution e/);
    const unmarked = judgeCase(
      { outcome: 'remediated', executionId: 'e' },
      { problems: [], auditRecord: 'not-canary' },
    );
    expect(!unmarked.fixed && missingText(unmarked.missing)).toMatch(/does not say canary: true/);
  });
  it('fixed and recorded, but its data event not delivered: "delivery not confirmed"; confirmed: fixed', () => {
    const late = judgeCase(
      { outcome: 'remediated', executionId: 'e' },
      { ...fine, delivery: { confirmed: false, detail: 'nothing in log group g within 900 s' } },
    );
    expect(!late.fixed && missingText(late.missing)).toBe(
      'delivery not confirmed: nothing in log group g within 900 s',
    );
    expect(
      judgeCase({ outcome: 'remediated', executionId: 'e' }, { ...fine, delivery: { confirmed: true } }),
    ).toEqual({ fixed: true });
    // A canary still broken is reported as such, whatever the delivery says.
    const broken = judgeCase(
      { outcome: 'remediated', executionId: 'e' },
      { problems: ['no delivery role'], auditRecord: 'found', delivery: { confirmed: false, detail: 'x' } },
    );
    expect(!broken.fixed && missingText(broken.missing)).toMatch(/^the fix was not verified/);
  });
  it('the report passes only when there are cases and all were fixed', () => {
    const c = {
      account: ACCOUNT,
      region: REGION,
      break: 'StopLogging' as const,
      fixed: true,
      seconds: 3,
      execution: 'e',
    };
    expect(selftestReport([c]).outcome).toBe('passed');
    expect(selftestReport([]).outcome).toBe('failed');
    expect(selftestReport([c, { ...c, fixed: false, seconds: null, missing: 'x' }]).outcome).toBe('failed');
  });
});

describe('firstRunAfter and reportOfRecord: which run a break started, and what its record says', () => {
  const record = (startedAt: string, extra: Record<string, unknown> = {}) => ({
    startedAt,
    outcome: 'remediated',
    executionId: `exec-${startedAt}`,
    reason: 'fixed',
    canary: true,
    ...extra,
  });
  const brokenAt = Date.parse('2026-12-07T10:00:00.000Z');

  it('picks the earliest run that started at the break or after it, within the clock skew', () => {
    const before = record('2026-12-07T09:59:50.000Z');
    const skewed = record('2026-12-07T09:59:57.000Z');
    const later = record('2026-12-07T10:00:30.000Z');
    expect(firstRunAfter([later, before, skewed], brokenAt)).toBe(skewed);
    expect(firstRunAfter([before], brokenAt)).toBeUndefined();
  });

  it('never takes a delivery check for the run', () => {
    const check = record('2026-12-07T10:00:01.000Z', { kind: 'delivery-check' });
    const run = record('2026-12-07T10:00:02.000Z');
    expect(firstRunAfter([check, run], brokenAt)).toBe(run);
    expect(firstRunAfter([check], brokenAt)).toBeUndefined();
  });

  it('reports a failed run with its step and error, a remediated one without a failure', () => {
    const failed = record('2026-12-07T10:00:02.000Z', {
      outcome: 'failed',
      error: { step: 'RestoreTrail', name: 'AccessDenied', message: 'denied' },
    });
    expect(reportOfRecord(failed)).toEqual({
      outcome: 'failed',
      executionId: failed.executionId,
      reason: 'fixed',
      failure: { step: 'RestoreTrail', name: 'AccessDenied', message: 'denied' },
    });
    expect(reportOfRecord(record('2026-12-07T10:00:02.000Z'))).toEqual({
      outcome: 'remediated',
      executionId: 'exec-2026-12-07T10:00:02.000Z',
      reason: 'fixed',
    });
  });
});

describe('proof of delivery: the canary object’s data event in CloudTrail’s stream', () => {
  const key = `${names.objectPrefix}StopLogging-1`;
  const record = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      eventSource: 's3.amazonaws.com',
      eventName: 'PutObject',
      eventCategory: 'Data',
      requestParameters: { bucketName: BUCKET, key },
      ...over,
    });
  it('a CloudTrail PutObject record of exactly that bucket and key, nothing else', () => {
    expect(isDeliveredObjectEvent(record(), BUCKET, key)).toBe(true);
    expect(isDeliveredObjectEvent(record({ eventName: 'GetObject' }), BUCKET, key)).toBe(false);
    expect(isDeliveredObjectEvent(record(), 'another-bucket', key)).toBe(false);
    expect(isDeliveredObjectEvent(record(), BUCKET, `${key}0`)).toBe(false);
    expect(isDeliveredObjectEvent(record({ requestParameters: null }), BUCKET, key)).toBe(false);
    expect(isDeliveredObjectEvent(`not json ${key}`, BUCKET, key)).toBe(false);
    expect(isDeliveredObjectEvent(undefined, BUCKET, key)).toBe(false);
  });
  it('the filter pattern is the key as one quoted term; the streams are CloudTrail’s of the account and region', () => {
    expect(deliveryFilterPattern(key)).toBe(`"${key}"`);
    expect(cloudTrailStreamPrefix(ACCOUNT, REGION)).toBe(`${ACCOUNT}_CloudTrail_${REGION}`);
  });
});
