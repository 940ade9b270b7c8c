/**
 * The functions' environment for a hub: the accounts, regions, hub region and remediation role reach every
 * function as variables (envFor, the CDK's) and come back as the same configuration (parseEnv, the handlers').
 */
import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../../policies/config.js';
import { EnvironmentError, envFor, parseEnv } from '../../../services/handlers/env.js';

const RESOURCES = {
  topicArn: 'arn:aws:sns:eu-west-2:111122223333:trailguard-notifications',
  auditTableName: 'trailguard-audit',
  accountId: '111122223333',
};

/** What a function's environment holds: envFor's values as the strings Lambda stores. */
function environment(config: ConfigInput): Record<string, string> {
  return Object.fromEntries(
    Object.entries(envFor(parseConfig(config), RESOURCES)).flatMap(([k, v]) =>
      v === undefined ? [] : [[k, String(v)]],
    ),
  );
}

describe('the hub settings in the environment', () => {
  it('a list of accounts, the regions, the hub region and the role: written as JSON and parsed back', () => {
    const config = {
      accounts: ['444455556666', '555566667777'],
      regions: ['eu-west-2', 'us-east-1'],
      hubRegion: 'eu-west-2',
      remediationRoleName: 'org-guardrail',
    };
    const env = environment(config);
    expect(env).toMatchObject({
      TRAILGUARD_ACCOUNTS: '["444455556666","555566667777"]',
      TRAILGUARD_REGIONS: '["eu-west-2","us-east-1"]',
      TRAILGUARD_HUB_REGION: 'eu-west-2',
      TRAILGUARD_REMEDIATION_ROLE_NAME: 'org-guardrail',
    });
    expect(parseEnv(env).config).toEqual(parseConfig(config));
  });

  it("kmsKeys (a key per region, and an account's own): written as JSON and parsed back", () => {
    const config = {
      accounts: ['444455556666', '555566667777'],
      regions: ['eu-west-2', 'us-east-1'],
      kmsKeys: {
        'eu-west-2': 'arn:aws:kms:eu-west-2:111122223333:key/aaaa-1111',
        'us-east-1': 'arn:aws:kms:us-east-1:111122223333:key/bbbb-2222',
        '444455556666': { 'us-east-1': 'arn:aws:kms:us-east-1:444455556666:key/cccc-3333' },
      },
    };
    const env = environment(config);
    expect(JSON.parse(env.TRAILGUARD_KMS_KEYS ?? '')).toEqual(config.kmsKeys);
    expect(parseEnv(env).config).toEqual(parseConfig(config));
    expect(environment({}).TRAILGUARD_KMS_KEYS).toBeUndefined();
  });

  it('logGroupDeletionProtection and protectExistingLogGroups reach the functions, off or on', () => {
    for (const config of [
      { logGroupDeletionProtection: false, protectExistingLogGroups: true },
      { logGroupDeletionProtection: true, protectExistingLogGroups: false },
    ]) {
      const env = environment(config);
      expect(env.TRAILGUARD_LOG_GROUP_DELETION_PROTECTION).toBe(String(config.logGroupDeletionProtection));
      expect(env.TRAILGUARD_PROTECT_EXISTING_LOG_GROUPS).toBe(String(config.protectExistingLogGroups));
      expect(parseEnv(env).config).toEqual(parseConfig(config));
    }
  });

  it('"organization" round-trips', () => {
    const env = environment({ accounts: 'organization' });
    expect(env.TRAILGUARD_ACCOUNTS).toBe('"organization"');
    expect(parseEnv(env).config.accounts).toBe('organization');
  });

  it('a single account: no accounts, regions or hub region variable; the role name keeps its default', () => {
    const env = environment({});
    expect(Object.keys(env)).not.toContain('TRAILGUARD_ACCOUNTS');
    expect(Object.keys(env)).not.toContain('TRAILGUARD_REGIONS');
    expect(Object.keys(env)).not.toContain('TRAILGUARD_HUB_REGION');
    expect(env.TRAILGUARD_REMEDIATION_ROLE_NAME).toBe('trailguard-remediation');
    const { config } = parseEnv(env);
    expect(config.accounts).toBeUndefined();
    expect(config.regions).toBeUndefined();
    expect(config.remediationRoleName).toBe('trailguard-remediation');
    // An environment written before these variables existed still parses, to the same configuration.
    const { TRAILGUARD_REMEDIATION_ROLE_NAME: _, ...older } = env;
    expect(parseEnv(older).config).toEqual(config);
  });

  it.each([
    ['not JSON', { TRAILGUARD_ACCOUNTS: '[4444' }, /TRAILGUARD_ACCOUNTS: must be "organization" or an array/],
    ['not an account id', { TRAILGUARD_ACCOUNTS: '["4444"]' }, /accounts\.0: must be a 12-digit account id/],
    [
      'regions not JSON',
      { TRAILGUARD_REGIONS: 'eu-west-2' },
      /TRAILGUARD_REGIONS: must be an array of region/,
    ],
    ['a bad region', { TRAILGUARD_REGIONS: '["mars-1"]' }, /regions\.0: must be an AWS region name/],
    ['a bad role name', { TRAILGUARD_REMEDIATION_ROLE_NAME: 'no spaces' }, /remediationRoleName/],
    [
      'a hub region outside the regions',
      { TRAILGUARD_REGIONS: '["us-east-1"]', TRAILGUARD_HUB_REGION: 'eu-west-2' },
      /hubRegion: eu-west-2 is not one of the guarded regions/,
    ],
  ])('%s: EnvironmentError naming the problem', (_, vars, message) => {
    const env = { ...environment({}), ...vars };
    expect(() => parseEnv(env)).toThrow(EnvironmentError);
    expect(() => parseEnv(env)).toThrow(message);
  });
});
