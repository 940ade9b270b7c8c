import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../policies/config.js';
import { readTrailState } from '../../services/aws/trail-reader.js';
import { assess } from '../../services/domain/assess.js';
import { TrailNotFoundError } from '../../services/domain/errors.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../support/aws.js';
import { type Breaks, seedCompliantTrail, seedTrail } from '../support/seed.js';

const config = parseConfig({});
/** A region other than REGION in every project. */
const OTHER_REGION = 'us-west-2';

beforeEach(async () => {
  await resetEmulator();
});

async function stateOf(id: string, region = REGION) {
  return readTrailState(testClients(), { id, region }, ACCOUNT);
}

async function codesFor(breaks: Breaks) {
  const seeded = await seedTrail(testClients(), 'broken-trail', { breaks });
  return assess(await stateOf(seeded.name), config).findings.map((f) => f.code);
}

describe('readTrailState against the emulator', () => {
  it('reads a compliant trail: log group, role trust and inline policy, logging', async () => {
    const seeded = await seedCompliantTrail(testClients(), 'main-trail');
    const state = await stateOf('main-trail');

    expect(state.trail).toMatchObject({
      name: 'main-trail',
      trailArn: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/main-trail`,
      homeRegion: REGION,
      cloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main-trail:*`,
      cloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/main-trail-delivery`,
    });
    expect(state.status?.isLogging).toBe(true);
    expect(state.logGroup).toEqual({ name: 'CloudTrail/main-trail', exists: true });
    expect(state.role?.exists).toBe(true);
    // IAM returns the trust policy URL-encoded: it must arrive decoded.
    expect(state.role?.trustPolicy).toMatchObject({
      Statement: [{ Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(state.role?.permissionPolicies.map((p) => p.name)).toEqual(['cloudtrail-delivery']);
    const assessment = assess(state, config);
    expect(assessment.findings).toEqual([]);
    expect(assessment.verdict).toBe('compliant');
    expect(assessment.target.logGroupName).toBe(seeded.logGroupName);
  });

  it('reads the trail by ARN as well as by name', async () => {
    const seeded = await seedCompliantTrail(testClients(), 'main-trail');
    const state = await stateOf(seeded.trailArn);
    expect(state.trail.name).toBe('main-trail');
    expect(assess(state, config).verdict).toBe('compliant');
  });

  it('counts permissions granted by an attached managed policy', async () => {
    await seedCompliantTrail(testClients(), 'managed-trail', { managedPolicy: true });
    const state = await stateOf('managed-trail');
    expect(state.role?.permissionPolicies).toHaveLength(1);
    expect(state.role?.permissionPolicies[0]?.name).toBe('managed-trail-delivery-policy');
    expect(state.role?.permissionPolicies[0]?.document).toMatchObject({
      Statement: [{ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }],
    });
    expect(assess(state, config).verdict).toBe('compliant');
  });

  it('keeps a role path', async () => {
    await seedCompliantTrail(testClients(), 'path-trail', { rolePath: '/service-role/' });
    const state = await stateOf('path-trail');
    expect(state.role).toMatchObject({ name: 'path-trail-delivery', exists: true });
    expect(assess(state, config).target.roleArn).toBe(
      `arn:aws:iam::${ACCOUNT}:role/service-role/path-trail-delivery`,
    );
  });

  it('reports a log group that does not exist', async () => {
    await seedTrail(testClients(), 'no-group', { breaks: { logGroupMissing: true } });
    const state = await stateOf('no-group');
    expect(state.logGroup).toEqual({ name: 'CloudTrail/no-group', exists: false });
    expect(assess(state, config).findings.map((f) => f.code)).toEqual(['LOG_GROUP_MISSING']);
  });

  it('does not take a log group whose name only starts like the one named for it', async () => {
    // DescribeLogGroups matches by prefix: "CloudTrail/prefix-longer" must not count as "CloudTrail/prefix".
    await seedTrail(testClients(), 'prefix', { breaks: { logGroupMissing: true } });
    await seedCompliantTrail(testClients(), 'prefix-longer');
    const state = await stateOf('prefix');
    expect(state.logGroup?.exists).toBe(false);
  });

  it('reports a role that does not exist', async () => {
    await seedTrail(testClients(), 'no-role', { breaks: { roleMissing: true } });
    const state = await stateOf('no-role');
    expect(state.role).toMatchObject({ name: 'no-role-delivery', exists: false, permissionPolicies: [] });
    expect(assess(state, config).findings.map((f) => f.code)).toEqual(['ROLE_MISSING']);
  });

  it('reports a role whose trust policy does not let CloudTrail assume it', async () => {
    expect(await codesFor({ trust: 'wrong-service' })).toEqual(['ROLE_TRUST_INVALID']);
  });

  it('reports trust limited to another account', async () => {
    expect(await codesFor({ trust: 'source-account' })).toEqual(['ROLE_TRUST_INVALID']);
  });

  it('reports a role without the delivery permissions', async () => {
    expect(await codesFor({ permissions: 'none' })).toEqual(['ROLE_PERMISSIONS_INSUFFICIENT']);
  });

  it('reports permissions denied by an explicit Deny', async () => {
    expect(await codesFor({ permissions: 'denied' })).toEqual(['ROLE_PERMISSIONS_INSUFFICIENT']);
  });

  it('reports a trail that is not logging', async () => {
    await seedTrail(testClients(), 'stopped', { breaks: { loggingStopped: true } });
    const state = await stateOf('stopped');
    expect(state.status?.isLogging).toBe(false);
    expect(assess(state, config).findings.map((f) => f.code)).toEqual(['LOGGING_STOPPED']);
  });

  it('reports a trail with no integration at all', async () => {
    expect(await codesFor({ logGroupArn: 'absent', roleArn: 'absent' })).toEqual([
      'LOG_GROUP_ARN_MISSING',
      'ROLE_ARN_MISSING',
    ]);
  });

  it('does not read a log group or role in another account', async () => {
    await seedTrail(testClients(), 'foreign', { breaks: { logGroupArn: 'foreign', roleArn: 'foreign' } });
    const state = await stateOf('foreign');
    expect(state.logGroup).toBeUndefined();
    expect(state.role).toBeUndefined();
    expect(assess(state, config).findings.map((f) => f.code)).toEqual([
      'LOG_GROUP_ARN_FOREIGN',
      'ROLE_ARN_FOREIGN',
    ]);
  });

  it('reads the trail tags, and an exemption tag makes the trail exempt', async () => {
    await seedTrail(testClients(), 'tagged', {
      tags: { team: 'security', 'trailguard:exempt': 'true' },
      breaks: { loggingStopped: true },
    });
    const state = await stateOf('tagged');
    expect(state.tags).toEqual({ team: 'security', 'trailguard:exempt': 'true' });
    const assessment = assess(state, config);
    expect(assessment.verdict).toBe('exempt');
    expect(assessment.findings.map((f) => f.code)).toEqual(['LOGGING_STOPPED']);
  });

  it('reads a trail in its own region', async () => {
    await seedCompliantTrail(testClients(), 'west-trail', { region: OTHER_REGION });
    const state = await stateOf('west-trail', OTHER_REGION);
    expect(state.trail.homeRegion).toBe(OTHER_REGION);
    expect(state.logGroup?.exists).toBe(true);
    expect(assess(state, config).verdict).toBe('compliant');
  });

  it('throws TrailNotFoundError for a trail that does not exist', async () => {
    await seedCompliantTrail(testClients(), 'main-trail');
    const error = await stateOf('missing-trail').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrailNotFoundError);
    expect((error as Error).message).toBe(`trail missing-trail does not exist in ${REGION}`);
    expect((error as Error).cause).toMatchObject({ name: 'TrailNotFoundException' });
  });
});
