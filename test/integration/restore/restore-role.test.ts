import {
  CreatePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePermissionsBoundaryCommand,
} from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliveryPolicyName, SHARED_DELIVERY_POLICY } from '../../../services/aws/role-writer.js';
import { decodePolicy, readRole } from '../../../services/aws/trail-reader.js';
import { RemediationError, RoleTrustError } from '../../../services/domain/errors.js';
import { allowsDelivery, trustsCloudTrail } from '../../../services/domain/policy-eval.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import { restoreRoleStep } from '../../../services/handlers/restore-role.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../../support/aws.js';
import {
  CLOUDTRAIL_TRUST,
  checkContext,
  createBucket,
  createLogGroup,
  createRole,
  createTrail,
  grantFor,
  logGroupArnOf,
  makeDeps,
  roleArnOf,
  trailArnOf,
} from '../../support/seed-remediation.js';

const streamOf = (group: string) =>
  `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:${ACCOUNT}_CloudTrail_${REGION}*`;

async function inlinePolicies(role: string): Promise<Record<string, Record<string, unknown>>> {
  const iam = testClients().iam();
  const { PolicyNames = [] } = await iam.send(new ListRolePoliciesCommand({ RoleName: role }));
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of PolicyNames) {
    const p = await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }));
    out[name] = decodePolicy(p.PolicyDocument);
  }
  return out;
}

async function trustOf(role: string) {
  const { Role } = await testClients()
    .iam()
    .send(new GetRoleCommand({ RoleName: role }));
  return decodePolicy(Role?.AssumeRolePolicyDocument);
}

const run = async (deps: Parameters<typeof restoreRoleStep>[0], ctx: RunContext) =>
  RunContextSchema.parse(await restoreRoleStep(deps)(ctx));

describe('RestoreRole', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('creates the missing role with the CloudTrail trust, the managed tag and a scoped delivery policy', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'management-events');
    const ctx = await checkContext(deps, 'management-events');

    const out = await run(deps, ctx);

    const role = 'trailguard-cloudtrail-delivery';
    expect(await trustOf(role)).toEqual({
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
    const { Tags } = await testClients()
      .iam()
      .send(new ListRoleTagsCommand({ RoleName: role }));
    expect(Tags).toEqual([{ Key: 'trailguard:managed', Value: 'true' }]);

    // The shared grant: CloudTrail's streams of every template log group of the account, in any region.
    expect(await inlinePolicies(role)).toEqual({
      [SHARED_DELIVERY_POLICY]: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'TrailguardCloudTrailDelivery',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: [`arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ACCOUNT}_CloudTrail_*`],
          },
        ],
      },
    });
    expect(out.actions.map((a) => [a.step, a.api])).toEqual([
      ['RestoreRole', 'CreateRole'],
      ['RestoreRole', 'PutRolePolicy'],
    ]);
    // A second run finds nothing to do.
    expect((await run(deps, ctx)).actions).toEqual([]);
  });

  it('repairs a trust policy that does not let CloudTrail assume the role, keeping other statements', async () => {
    // A role the trail names and trailguard may repair in place (policies/config.ts managedRoleNames).
    const deps = await makeDeps({ config: { managedRoleNames: ['mixed-role'] } });
    const ec2 = {
      Sid: 'Ec2',
      Effect: 'Allow',
      Principal: { Service: 'ec2.amazonaws.com' },
      Action: 'sts:AssumeRole',
    };
    await createRole(deps.clients, 'mixed-role', {
      trust: { Version: '2012-10-17', Statement: [ec2] },
      policies: { grant: grantFor('CloudTrail/mixed') },
    });
    await createLogGroup(deps.clients, 'CloudTrail/mixed');
    await createTrail(deps.clients, 'mixed-trail', {
      logGroupArn: logGroupArnOf('CloudTrail/mixed'),
      roleArn: roleArnOf('mixed-role'),
      logging: true,
    });
    const ctx = await checkContext(deps, 'mixed-trail');
    expect(ctx.before?.assessment.findings.map((f) => f.code)).toEqual(['ROLE_TRUST_INVALID']);

    const out = await run(deps, ctx);

    const trust = await trustOf('mixed-role');
    expect(trust.Statement).toEqual([ec2, expect.objectContaining({ Sid: 'TrailguardAllowCloudTrail' })]);
    expect(trustsCloudTrail(trust)).toBe(true);
    expect(out.actions.map((a) => a.api)).toEqual(['UpdateAssumeRolePolicy']);
    // Its permissions were already enough: no policy added.
    expect(Object.keys(await inlinePolicies('mixed-role'))).toEqual(['grant']);
  });

  it('gives two trails sharing a role, on log groups outside the template, each their own grant; both keep it', async () => {
    // A role the trail names and trailguard may repair in place (policies/config.ts managedRoleNames).
    const deps = await makeDeps({ config: { managedRoleNames: ['shared-role'] } });
    await createRole(deps.clients, 'shared-role');
    for (const [trail, group] of [
      ['trail-one', 'groups/one'],
      ['trail-two', 'groups/two'],
    ] as const) {
      await createLogGroup(deps.clients, group);
      await createTrail(deps.clients, trail, {
        logGroupArn: logGroupArnOf(group),
        roleArn: roleArnOf('shared-role'),
        logging: true,
      });
    }
    const one = await checkContext(deps, 'trail-one', 1);
    const two = await checkContext(deps, 'trail-two', 2);

    await Promise.all([run(deps, one), run(deps, two), run(deps, one), run(deps, two)]);

    const policies = await inlinePolicies('shared-role');
    expect(Object.keys(policies).sort()).toEqual(
      [
        deliveryPolicyName('groups/one', [streamOf('groups/one')]),
        deliveryPolicyName('groups/two', [streamOf('groups/two')]),
      ].sort(),
    );
    const role = await readRole(testClients(), 'shared-role', roleArnOf('shared-role'));
    const docs = role.permissionPolicies.map((p) => p.document);
    expect(allowsDelivery(docs, [streamOf('groups/one')])).toBe(true);
    expect(allowsDelivery(docs, [streamOf('groups/two')])).toBe(true);
    // Re-checking both trails now finds nothing left about the role.
    for (const [trail, n] of [
      ['trail-one', 3],
      ['trail-two', 4],
    ] as const) {
      const again = await checkContext(deps, trail, n);
      expect(again.decision).toBe('compliant');
    }
  });

  it('survives 20 concurrent runs on one target: one role, one delivery policy, no failure', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'busy-trail');
    const ctx = await checkContext(deps, 'busy-trail');

    const results = await Promise.all(Array.from({ length: 20 }, () => run(deps, ctx)));

    const { Roles = [] } = await testClients().iam().send(new ListRolesCommand({}));
    expect(Roles.map((r) => r.RoleName)).toEqual(['trailguard-cloudtrail-delivery']);
    expect(Object.keys(await inlinePolicies('trailguard-cloudtrail-delivery'))).toHaveLength(1);
    expect(results.flatMap((r) => r.actions).filter((a) => a.api === 'CreateRole')).toHaveLength(1);
    const role = await readRole(testClients(), 'trailguard-cloudtrail-delivery', roleArnOf('x'));
    expect(trustsCloudTrail(role.trustPolicy)).toBe(true);
    expect(
      allowsDelivery(
        role.permissionPolicies.map((p) => p.document),
        [streamOf('CloudTrail/busy-trail')],
      ),
    ).toBe(true);
  });

  it("replaces an earlier version's SourceAccount-conditioned statement and keeps every other, conditioned ones too", async () => {
    const deps = await makeDeps({ config: { managedRoleNames: ['old-role'] } });
    const pinned = {
      Sid: 'TeamPinned',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: { ArnEquals: { 'aws:SourceArn': trailArnOf('old-trail') } },
    };
    const earlier = {
      Sid: 'TrailguardAllowCloudTrail',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    };
    await createRole(deps.clients, 'old-role', {
      trust: { Version: '2012-10-17', Statement: [pinned, earlier] },
      policies: { grant: grantFor('CloudTrail/old') },
    });
    await createLogGroup(deps.clients, 'CloudTrail/old');
    await createTrail(deps.clients, 'old-trail', {
      logGroupArn: logGroupArnOf('CloudTrail/old'),
      roleArn: roleArnOf('old-role'),
      logging: true,
    });
    const ctx = await checkContext(deps, 'old-trail');
    const [finding] = ctx.before?.assessment.findings ?? [];
    expect(finding?.code).toBe('ROLE_TRUST_INVALID');
    expect(finding?.message).toContain('aws:SourceArn and aws:SourceAccount');
    expect(finding?.message).toContain('CloudTrail does not send');

    await run(deps, ctx);

    const trust = await trustOf('old-role');
    expect(trust.Statement).toEqual([
      pinned,
      {
        Sid: 'TrailguardAllowCloudTrail',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    ]);
    expect((await checkContext(deps, 'old-trail', 2)).decision).toBe('compliant');
  });

  it('keeps a Deny aimed at CloudTrail in the trust and fails with RoleTrustError naming it, writing nothing', async () => {
    const deps = await makeDeps({ config: { managedRoleNames: ['guarded-role'] } });
    const deny = {
      Sid: 'NoCloudTrail',
      Effect: 'Deny',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
    };
    await createRole(deps.clients, 'guarded-role', {
      trust: { Version: '2012-10-17', Statement: [...CLOUDTRAIL_TRUST.Statement, deny] },
      policies: { grant: grantFor('CloudTrail/guarded') },
    });
    await createLogGroup(deps.clients, 'CloudTrail/guarded');
    await createTrail(deps.clients, 'guarded-trail', {
      logGroupArn: logGroupArnOf('CloudTrail/guarded'),
      roleArn: roleArnOf('guarded-role'),
      logging: true,
    });
    const ctx = await checkContext(deps, 'guarded-trail');

    const error = await run(deps, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoleTrustError);
    expect((error as Error).message).toContain('a Deny statement refuses sts:AssumeRole');
    expect((await trustOf('guarded-role')).Statement).toEqual([...CLOUDTRAIL_TRUST.Statement, deny]);
  });

  it('a permissions boundary that does not allow delivery: ROLE_PERMISSIONS_INSUFFICIENT, never changed, RemediationError', async () => {
    const deps = await makeDeps({ config: { managedRoleNames: ['bounded-role'] } });
    await createRole(deps.clients, 'bounded-role', { policies: { grant: grantFor('CloudTrail/bounded') } });
    const { Policy } = await deps.clients.iam().send(
      new CreatePolicyCommand({
        PolicyName: 'no-logs-boundary',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
        }),
      }),
    );
    await deps.clients
      .iam()
      .send(
        new PutRolePermissionsBoundaryCommand({ RoleName: 'bounded-role', PermissionsBoundary: Policy?.Arn }),
      );
    await createLogGroup(deps.clients, 'CloudTrail/bounded');
    await createTrail(deps.clients, 'bounded-trail', {
      logGroupArn: logGroupArnOf('CloudTrail/bounded'),
      roleArn: roleArnOf('bounded-role'),
      logging: true,
    });
    const ctx = await checkContext(deps, 'bounded-trail');
    const [finding] = ctx.before?.assessment.findings ?? [];
    expect(finding?.code).toBe('ROLE_PERMISSIONS_INSUFFICIENT');
    expect(finding?.message).toContain(`permissions boundary ${Policy?.Arn}`);

    const error = await run(deps, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemediationError);
    expect((error as Error).message).toContain('does not change permissions boundaries');
    expect(Object.keys(await inlinePolicies('bounded-role'))).toEqual(['grant']);
  });

  it('fails with RemediationError, writing nothing, when a Deny blocks delivery', async () => {
    // A role the trail names and trailguard may repair in place (policies/config.ts managedRoleNames).
    const deps = await makeDeps({ config: { managedRoleNames: ['denied-role'] } });
    await createRole(deps.clients, 'denied-role', {
      trust: CLOUDTRAIL_TRUST,
      policies: {
        deny: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' }],
        },
      },
    });
    await createLogGroup(deps.clients, 'CloudTrail/denied');
    await createTrail(deps.clients, 'denied-trail', {
      logGroupArn: logGroupArnOf('CloudTrail/denied'),
      roleArn: roleArnOf('denied-role'),
      logging: true,
    });
    const ctx = await checkContext(deps, 'denied-trail');

    await expect(run(deps, ctx)).rejects.toBeInstanceOf(RemediationError);
    expect(Object.keys(await inlinePolicies('denied-role'))).toEqual(['deny']);
  });

  it('names delivery policies validly and distinctly', () => {
    const long = `a/${'x'.repeat(600)}`;
    const names = [
      deliveryPolicyName('CloudTrail/a b', ['r1']),
      deliveryPolicyName('CloudTrail/a#b', ['r2']),
      deliveryPolicyName(long, ['r3']),
      deliveryPolicyName('///', ['r4']),
    ];
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(128);
      expect(name).toMatch(/^[\w+=,.@-]+$/);
      expect(name).toMatch(/^trailguard-delivery-/);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(deliveryPolicyName('g', ['a', 'b'])).toBe(deliveryPolicyName('g', ['b', 'a']));
  });
});
