/**
 * Each shape of deployment the product supports (single account, CIS monitoring, the deployed canary, notify-only
 * without Security Hub, a single account guarding several regions, an organization hub with its spoke and the
 * StackSet's spoke template, an organization hub with the preventive SCP): synthesized by `npm run lint:templates`
 * (infra/lint-templates.ts) and by the Service Authorization Reference test
 * (test/infra/service-authorization.test.ts). A module of its own so that importing it runs nothing.
 */
import type { ConfigInput } from '../policies/config.js';

/** Each shape of deployment the product supports, by a name a person can read in the output. */
export const SHAPES: Record<string, ConfigInput> = {
  'single-account': {},
  'single-account-cis': { cisMonitoring: true },
  'single-account-canary': { canary: { schedule: 'rate(1 day)', timeoutMinutes: 15 } },
  'single-account-canary-cis': {
    canary: { schedule: 'rate(1 day)', timeoutMinutes: 15 },
    cisMonitoring: true,
  },
  'notify-only-no-security-hub': { mode: 'notify-only', securityHub: false, deliveryCheckMinutes: 0 },
  'single-account-regions': {
    regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    protectExistingLogGroups: true,
  },
  'organization-hub': {
    accounts: ['111111111111', '222222222222'],
    regions: ['us-east-1', 'eu-west-1'],
    hubRegion: 'us-east-1',
    cisMonitoring: true,
    // A log group key per region, and one account's own (the member -log-group role's kms:DescribeKey).
    kmsKeys: {
      'us-east-1': 'arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'eu-west-1': 'arn:aws:kms:eu-west-1:333333333333:key/5678abcd-12ab-34cd-56ef-1234567890ab',
      '222222222222': {
        'eu-west-1': 'arn:aws:kms:eu-west-1:222222222222:key/9abcabcd-12ab-34cd-56ef-1234567890ab',
      },
    },
  },
  'organization-hub-canary': {
    accounts: ['111111111111', '222222222222'],
    regions: ['us-east-1', 'eu-west-1'],
    hubRegion: 'us-east-1',
    organizationId: 'o-abcdef1234',
    cisMonitoring: true,
    canary: { accounts: ['111111111111', '222222222222'], regions: ['us-east-1', 'eu-west-1'] },
  },
  'organization-all-accounts': { accounts: 'organization', regions: ['eu-west-1', 'us-east-1'] },
  'organization-preventive-scp': {
    accounts: 'organization',
    regions: ['us-east-1'],
    canary: { schedule: 'rate(1 day)', timeoutMinutes: 15 },
    preventive: {
      scp: true,
      targets: ['r-abcd', 'ou-abcd-12345678'],
      breakGlassRoleArns: ['arn:aws:iam::*:role/BreakGlass'],
    },
  },
};
