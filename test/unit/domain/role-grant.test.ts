/**
 * The pure parts of the delivery role writer (services/aws/role-writer.ts): which grant a trail needs
 * (grantFor), how IAM sizes it (policySize), and the point of the shared grant: its size does not grow with
 * the number of trails delivering to the template's log groups, where per-log-group grants would outgrow the
 * role's 10,240-character inline quota.
 */
import { describe, expect, it } from 'vitest';
import { managedLogGroupPattern, parseConfig } from '../../../policies/config.js';
import {
  deliveryPolicyName,
  grantFor,
  INLINE_POLICY_QUOTA,
  initialTrustPolicy,
  policySize,
  type RoleSpec,
  SHARED_DELIVERY_POLICY,
} from '../../../services/aws/role-writer.js';
import { deliveryStreamResources } from '../../../services/domain/arns.js';
import {
  allowsDelivery,
  cloudTrailTrust,
  deliveryPolicy,
  statementsOf,
} from '../../../services/domain/policy-eval.js';
import type { PolicyDocument, RoleState } from '../../../services/domain/trail-state.js';

const ACCOUNT = '123456789012';
const ORG_ID = 'o-a1b2c3d4e5';
const ROLE = 'trailguard-cloudtrail-delivery';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
const config = parseConfig({});
const PATTERN = managedLogGroupPattern(config);
const REGIONS = ['us-east-1', 'eu-west-3', 'ap-southeast-2', 'sa-east-1'];

/** The spec RestoreRole builds for a trail delivering to `logGroupName` in `region`. */
function spec(
  logGroupName: string,
  region = 'us-east-1',
  opts: { organizationId?: string; managed?: boolean } = {},
): RoleSpec {
  const managed = opts.managed ?? true;
  return {
    name: ROLE,
    path: '/',
    arn: ROLE_ARN,
    account: ACCOUNT,
    partition: 'aws',
    logGroupName,
    streamResources: deliveryStreamResources({
      partition: 'aws',
      region,
      account: ACCOUNT,
      logGroupName,
      organizationTrail: opts.organizationId !== undefined,
      ...(opts.organizationId ? { organizationId: opts.organizationId } : {}),
    }),
    ...(managed ? { managedLogGroupPattern: PATTERN } : {}),
    ...(opts.organizationId ? { organizationId: opts.organizationId } : {}),
  };
}

function role(permissionPolicies: RoleState['permissionPolicies'] = []): RoleState {
  return { name: ROLE, arn: ROLE_ARN, exists: true, trustPolicy: initialTrustPolicy(), permissionPolicies };
}

const resourcesOf = (document: PolicyDocument) =>
  statementsOf(document).flatMap((s) => s.Resource as string[]);

const SHARED_ACCOUNT_STREAMS = `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ACCOUNT}_CloudTrail_*`;
const SHARED_ORG_STREAMS = `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ORG_ID}_*`;

describe('grantFor: a log group under the template gets the shared grant', () => {
  it("is the one inline policy trailguard-cloudtrail-delivery, on CloudTrail's streams of every template group", () => {
    const grant = grantFor(spec('CloudTrail/main'), role());
    expect(grant).toEqual({
      name: SHARED_DELIVERY_POLICY,
      document: deliveryPolicy([SHARED_ACCOUNT_STREAMS]),
      shared: true,
    });
    expect(SHARED_DELIVERY_POLICY).toBe('trailguard-cloudtrail-delivery');
  });

  it('is the same document whatever the trail, log group or region', () => {
    const first = grantFor(spec('CloudTrail/main'), role());
    for (const region of REGIONS) {
      for (const group of ['CloudTrail/main', 'CloudTrail/audit', 'CloudTrail/x.y-z_1']) {
        expect(grantFor(spec(group, region), role()), `${group} ${region}`).toEqual(first);
      }
    }
  });

  it("lets every such trail deliver: it covers the trail's own streams", () => {
    for (const region of REGIONS) {
      const s = spec(`CloudTrail/trail-${region}`, region);
      expect(allowsDelivery([grantFor(s, role()).document], s.streamResources), region).toBe(true);
    }
  });

  it('stays scoped: not a log group outside the template, not another account, not non-CloudTrail streams', () => {
    const { document } = grantFor(spec('CloudTrail/main'), role());
    expect(
      allowsDelivery([document], spec('team-audit', 'us-east-1', { managed: false }).streamResources),
    ).toBe(false);
    expect(
      allowsDelivery(
        [document],
        [
          `arn:aws:logs:us-east-1:210987654321:log-group:CloudTrail/main:log-stream:210987654321_CloudTrail_*`,
        ],
      ),
    ).toBe(false);
    expect(
      allowsDelivery(
        [document],
        [`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main:log-stream:app-*`],
      ),
    ).toBe(false);
  });

  it("an organization trail adds its member accounts' streams, with the real organization id", () => {
    const s = spec('CloudTrail/org', 'us-east-1', { organizationId: ORG_ID });
    const grant = grantFor(s, role());
    expect(resourcesOf(grant.document)).toEqual([SHARED_ACCOUNT_STREAMS, SHARED_ORG_STREAMS].sort());
    expect(allowsDelivery([grant.document], s.streamResources)).toBe(true);
    expect(resourcesOf(grant.document).some((r) => r.endsWith(':log-stream:o-*'))).toBe(false);
  });

  it("keeps the organization streams another trail's repair added to the shared grant", () => {
    const withOrg = grantFor(spec('CloudTrail/org', 'us-east-1', { organizationId: ORG_ID }), role());
    const current = role([{ name: SHARED_DELIVERY_POLICY, kind: 'inline', document: withOrg.document }]);
    // A later, ordinary trail must not take the organization's streams away.
    const next = grantFor(spec('CloudTrail/main', 'eu-west-3'), current);
    expect(next).toEqual(withOrg);
    // Same with no `kind` (an earlier reader did not record it: inline).
    const unknownKind = role([{ name: SHARED_DELIVERY_POLICY, document: withOrg.document }]);
    expect(grantFor(spec('CloudTrail/main'), unknownKind)).toEqual(withOrg);
  });

  it('keeps only o-... streams of the template groups, and does not duplicate them', () => {
    const current = role([
      {
        name: SHARED_DELIVERY_POLICY,
        kind: 'inline',
        document: deliveryPolicy([
          SHARED_ACCOUNT_STREAMS,
          SHARED_ORG_STREAMS,
          `arn:aws:logs:*:${ACCOUNT}:log-group:elsewhere/*:log-stream:o-zzzzzzzzzz_*`,
          `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:app-*`,
        ]),
      },
    ]);
    const grant = grantFor(spec('CloudTrail/org', 'us-east-1', { organizationId: ORG_ID }), current);
    expect(resourcesOf(grant.document)).toEqual([SHARED_ACCOUNT_STREAMS, SHARED_ORG_STREAMS].sort());
  });

  it('does not read a managed policy that happens to have the same name', () => {
    const current = role([
      { name: SHARED_DELIVERY_POLICY, kind: 'managed', document: deliveryPolicy([SHARED_ORG_STREAMS]) },
    ]);
    expect(resourcesOf(grantFor(spec('CloudTrail/main'), current).document)).toEqual([
      SHARED_ACCOUNT_STREAMS,
    ]);
  });
});

describe('grantFor: a log group outside the template gets a grant of its own', () => {
  it('named after the group, on exactly its streams', () => {
    const s = spec('team-audit', 'eu-west-3', { managed: false });
    const grant = grantFor(s, role());
    expect(grant).toEqual({
      name: deliveryPolicyName('team-audit', s.streamResources),
      document: deliveryPolicy(s.streamResources),
      shared: false,
    });
    expect(grant.name).toMatch(/^trailguard-delivery-team-audit-[0-9a-f]{12}$/);
    expect(allowsDelivery([grant.document], s.streamResources)).toBe(true);
  });

  it('for an organization trail, its o-ORGID_* streams too', () => {
    const s = spec('team-audit', 'us-east-1', { managed: false, organizationId: ORG_ID });
    expect(resourcesOf(grantFor(s, role()).document)).toEqual([
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:team-audit:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:team-audit:log-stream:${ORG_ID}_*`,
    ]);
  });
});

describe('deliveryPolicyName', () => {
  it('is a valid IAM policy name of at most 128 characters, stable, and distinct per stream set', () => {
    const long = `a/${'b#'.repeat(300)}`;
    for (const group of ['team-audit', 'a/b/c', '#weird##name#', long, '---']) {
      const name = deliveryPolicyName(group, [`x:${group}`]);
      expect(name, group).toMatch(/^[\w+=,.@-]{1,128}$/);
      expect(name).toBe(deliveryPolicyName(group, [`x:${group}`]));
    }
    expect(deliveryPolicyName('a/b', ['1'])).not.toBe(deliveryPolicyName('a#b', ['2']));
    expect(deliveryPolicyName('g', ['1', '2'])).toBe(deliveryPolicyName('g', ['2', '1']));
  });
});

describe('policySize', () => {
  it('counts the JSON without whitespace, as IAM does', () => {
    const document = deliveryPolicy([SHARED_ACCOUNT_STREAMS]);
    const compact = JSON.stringify(document);
    expect(policySize(document)).toBe(compact.length);
    expect(JSON.stringify(document, null, 2).replace(/\s/g, '').length).toBe(policySize(document));
    expect(JSON.stringify(document, null, 2).length).toBeGreaterThan(policySize(document));
  });
});

describe('the shared grant does not grow with the number of trails', () => {
  const trails = Array.from({ length: 60 }, (_, i) => ({
    group: `CloudTrail/trail-${String(i).padStart(2, '0')}`,
    region: REGIONS[i % REGIONS.length] ?? 'us-east-1',
  }));

  it('60 trails repaired one after another leave the same document, of the same size, as 1', () => {
    const one = grantFor(spec('CloudTrail/trail-00'), role());
    let current = role();
    for (const t of trails) {
      const grant = grantFor(spec(t.group, t.region), current);
      current = role([{ name: grant.name, kind: 'inline', document: grant.document }]);
    }
    const [after] = current.permissionPolicies;
    expect(after?.document).toEqual(one.document);
    expect(policySize(after?.document ?? {})).toBe(policySize(one.document));
    for (const t of trails) {
      expect(allowsDelivery([after?.document ?? {}], spec(t.group, t.region).streamResources), t.group).toBe(
        true,
      );
    }
  });

  it('where 60 per-log-group grants would exceed the inline quota of one role', () => {
    const perGroup = trails.map((t) => grantFor(spec(t.group, t.region, { managed: false }), role()));
    expect(new Set(perGroup.map((g) => g.name)).size).toBe(60);
    const total = perGroup.reduce((n, g) => n + policySize(g.document), 0);
    expect(total).toBeGreaterThan(INLINE_POLICY_QUOTA);
    expect(policySize(grantFor(spec('CloudTrail/trail-00'), role()).document)).toBeLessThan(
      INLINE_POLICY_QUOTA / 20,
    );
    expect(INLINE_POLICY_QUOTA).toBe(10_240);
  });
});

describe('initialTrustPolicy', () => {
  it('is the unconditioned CloudTrail statement, which trusts CloudTrail', () => {
    expect(initialTrustPolicy()).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TrailguardAllowCloudTrail',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    expect(cloudTrailTrust(initialTrustPolicy())).toEqual({ trusted: true });
  });
});
