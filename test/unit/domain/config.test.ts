import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  defaultLogGroupName,
  parseConfig,
  RETENTION_DAYS,
  renderTemplate,
} from '../../../policies/config.js';

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected ConfigError, but the configuration parsed');
}

describe('parseConfig', () => {
  it('fills every default', () => {
    expect(parseConfig({})).toEqual({
      mode: 'remediate',
      logGroupNameTemplate: 'CloudTrail/{trail}',
      retentionDays: 365,
      logGroupDeletionProtection: true,
      protectExistingLogGroups: false,
      deliveryRoleName: 'trailguard-cloudtrail-delivery',
      managedRoleNames: [],
      exemptTagKey: 'trailguard:exempt',
      exemptTagValue: 'true',
      notificationTopicName: 'trailguard-notifications',
      auditTableName: 'trailguard-audit',
      sweepIntervalMinutes: 60,
      securityHub: true,
      deliveryCheckMinutes: 15,
      cisMonitoring: false,
      remediationRoleName: 'trailguard-remediation',
      allowSpokeRemoval: false,
    });
    expect(parseConfig(undefined)).toEqual(parseConfig({}));
    expect(parseConfig(null)).toEqual(parseConfig({}));
  });

  it('accepts valid values', () => {
    const config = parseConfig({
      mode: 'notify-only',
      logGroupNameTemplate: 'aws/cloudtrail/{account}/{region}/{trail}',
      retentionDays: 3653,
      kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      deliveryRoleName: 'CloudTrail_CloudWatchLogs_Role',
      exemptTagKey: 'compliance',
      exemptTagValue: 'waived',
    });
    expect(config).toMatchObject({ mode: 'notify-only', retentionDays: 3653, exemptTagValue: 'waived' });
  });

  it('accepts every retention CloudWatch Logs accepts', () => {
    for (const days of RETENTION_DAYS) expect(parseConfig({ retentionDays: days }).retentionDays).toBe(days);
  });

  it.each([42, 0, -1, 365.5, '365'])('rejects retention %j', (days) => {
    const problems = problemsOf({ retentionDays: days });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^retentionDays: /);
  });

  it('says which retention values are valid', () => {
    expect(problemsOf({ retentionDays: 42 })).toEqual([
      `retentionDays: must be one of ${RETENTION_DAYS.join(', ')}`,
    ]);
  });

  it('reports every invalid field at once', () => {
    const error = (() => {
      try {
        parseConfig({
          mode: 'fix-everything',
          retentionDays: 42,
          kmsKeyArn: 'my-key',
          deliveryRoleName: 'bad role name',
          notificationTopicName: 'bad topic!',
          exemptTagKey: '',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message, cause } = error as ConfigError;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'deliveryRoleName',
      'exemptTagKey',
      'kmsKeyArn',
      'mode',
      'notificationTopicName',
      'retentionDays',
    ]);
    expect(problems).toContain('kmsKeyArn: must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)');
    expect(problems).toContain(
      'deliveryRoleName: must be a valid IAM role name (1-64 of letters, digits, +=,.@_-)',
    );
    expect(message.split('\n')[0]).toBe('invalid trailguard configuration:');
    expect(message.split('\n')).toHaveLength(7);
    expect(cause).toBeDefined();
  });

  it('rejects a key it does not know, so a typo is not silently ignored', () => {
    const problems = problemsOf({ retentionDay: 30, mode: 'notify-only' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('retentionDay');
  });

  it('rejects something that is not an object', () => {
    expect(problemsOf('remediate')).toHaveLength(1);
    expect(problemsOf([])).toHaveLength(1);
  });
});

describe('sweepIntervalMinutes', () => {
  it('defaults to hourly and accepts the bounds', () => {
    expect(parseConfig({}).sweepIntervalMinutes).toBe(60);
    expect(parseConfig({ sweepIntervalMinutes: 5 }).sweepIntervalMinutes).toBe(5);
    expect(parseConfig({ sweepIntervalMinutes: 1440 }).sweepIntervalMinutes).toBe(1440);
  });

  it.each([
    [4, 'sweepIntervalMinutes: must be at least 5 minutes'],
    [1441, 'sweepIntervalMinutes: must be at most 1440 minutes (once a day)'],
    [30.5, 'sweepIntervalMinutes: must be a whole number of minutes'],
  ])('rejects %j', (minutes, problem) => {
    expect(problemsOf({ sweepIntervalMinutes: minutes })).toEqual([problem]);
  });

  it('rejects a string', () => {
    const problems = problemsOf({ sweepIntervalMinutes: '60' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^sweepIntervalMinutes: /);
  });
});

describe('logGroupNameTemplate', () => {
  it('rejects an unknown template variable and names the valid ones', () => {
    expect(problemsOf({ logGroupNameTemplate: 'CloudTrail/{trial}' })).toEqual([
      'logGroupNameTemplate: unknown variable {trial}; use {trail}, {account}, {region}',
    ]);
  });

  it('reports each unknown variable', () => {
    expect(problemsOf({ logGroupNameTemplate: '{a}/{trail}/{}' })).toEqual([
      'logGroupNameTemplate: unknown variable {a}; use {trail}, {account}, {region}',
      'logGroupNameTemplate: unknown variable {}; use {trail}, {account}, {region}',
    ]);
  });

  it('rejects a template that cannot render to a log group name', () => {
    expect(problemsOf({ logGroupNameTemplate: 'Cloud Trail/{trail}' })).toEqual([
      'logGroupNameTemplate: must render to a valid log group name (letters, digits, _ - . / #; at most 512 characters)',
    ]);
    const empty = problemsOf({ logGroupNameTemplate: '' });
    expect(empty.length).toBeGreaterThan(0);
    for (const problem of empty) expect(problem).toMatch(/^logGroupNameTemplate: /);
  });

  it('renders the variables', () => {
    expect(
      renderTemplate('ct/{account}/{region}/{trail}', {
        trail: 't',
        account: '123456789012',
        region: 'eu-west-1',
      }),
    ).toBe('ct/123456789012/eu-west-1/t');
  });

  it('defaultLogGroupName renders the configured template', () => {
    const config = parseConfig({ logGroupNameTemplate: '{region}/{trail}' });
    expect(defaultLogGroupName(config, { trail: 'main', account: '123456789012', region: 'us-east-1' })).toBe(
      'us-east-1/main',
    );
  });

  it('defaultLogGroupName keeps the result a valid name', () => {
    const config = parseConfig({ logGroupNameTemplate: `${'x'.repeat(500)}/{trail}` });
    const name = defaultLogGroupName(config, { trail: 'a'.repeat(128), account: '1', region: 'r' });
    expect(name).toHaveLength(512);
    expect(name).toMatch(/^[\w\-./#]+$/);
  });
});
