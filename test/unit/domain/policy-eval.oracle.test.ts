/**
 * Differential test of the product's IAM evaluator (services/domain/policy-eval.ts) against an independent IAM
 * simulator, @cloud-copilot/iam-simulate, on policies generated from a small vocabulary (fast-check).
 *
 * Our evaluator answers for a stream *pattern* (`ACCOUNT_CloudTrail_REGION*`, `o-ORGID_*`) and is deliberately
 * conservative: a conditioned Allow never grants, any Deny that may apply refuses. The simulator answers for
 * one concrete request. So, for concrete stream names CloudTrail uses under each pattern:
 * - soundness, always: ours allows => the simulator allows every such request, in every request context;
 * - equality where no Condition is involved: ours allows <=> the simulator allows every such request.
 * The same for trust: ours trusts => the simulator lets cloudtrail.amazonaws.com call sts:AssumeRole, with the
 * context CloudTrail sends (no aws:SourceArn / aws:SourceAccount for this role) and with any other.
 *
 * Licence: @cloud-copilot/iam-simulate is AGPL-3.0-or-later. It is a devDependency used only here and in other
 * tests as an oracle; it is never imported by product code and never bundled into the functions.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allowsDelivery,
  cloudTrailTrust,
  DELIVERY_ACTIONS,
  deliveryDenial,
  trustsCloudTrail,
} from '../../../services/domain/policy-eval.js';
import type { PolicyDocument } from '../../../services/domain/trail-state.js';

const ACCOUNT = '123456789012';
const MEMBER = '111122223333';
const REGION = 'us-east-1';
const ORG_ID = 'o-a1b2c3d4e5';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/main`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ct-delivery`;
const GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main`;
const OTHER_GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/other`;
/** What the product asks about: the documented stream patterns (deliveryStreamResources). */
const STREAMS = `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}*`;
const ORG_STREAMS = `${GROUP}:log-stream:${ORG_ID}_*`;
/** Concrete streams CloudTrail writes under each pattern: the ones the simulator is asked about. */
const CONCRETE: Record<string, string[]> = {
  [STREAMS]: [`${ACCOUNT}_CloudTrail_${REGION}`, `${ACCOUNT}_CloudTrail_${REGION}_xyz`].map(
    (name) => `${GROUP}:log-stream:${name}`,
  ),
  [ORG_STREAMS]: [
    `${ORG_ID}_${MEMBER}_CloudTrail_${REGION}`,
    `${ORG_ID}_${ACCOUNT}_CloudTrail_${REGION}_xyz`,
  ].map((name) => `${GROUP}:log-stream:${name}`),
};
const REQUESTS: readonly (readonly string[])[] = [[STREAMS], [STREAMS, ORG_STREAMS]];

/** Request contexts: none, and the values the generated conditions test, both ways. */
const CONTEXTS: Record<string, string>[] = [
  {},
  { 'aws:RequestedRegion': REGION, 'aws:SecureTransport': 'true' },
  { 'aws:RequestedRegion': 'eu-west-1', 'aws:SecureTransport': 'false' },
];

const RUNS = 150;

type Statement = Record<string, unknown>;
const doc = (Statement: Statement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const hasCondition = (docs: (PolicyDocument | undefined)[]) =>
  docs.some((d) => JSON.stringify(d ?? {}).includes('"Condition"'));

// ---------------------------------------------------------------------------------------------------------
// The simulator, memoized (the vocabulary is small: the same simulation comes back often).

const memo = new Map<string, boolean>();
async function simulate(simulation: Parameters<typeof runSimulation>[0]): Promise<boolean> {
  const key = JSON.stringify(simulation);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`iam-simulate: ${JSON.stringify(result.errors)}`);
  const allowed = result.overallResult === 'Allowed';
  memo.set(key, allowed);
  return allowed;
}

/** Whether the simulator lets the role call every delivery action on every concrete stream of `requested`. */
async function simulatorAllowsDelivery(
  documents: PolicyDocument[],
  requested: readonly string[],
  boundary: PolicyDocument | undefined,
  contextVariables: Record<string, string>,
): Promise<{ allowed: boolean; refused?: string }> {
  for (const pattern of requested) {
    for (const stream of CONCRETE[pattern] ?? []) {
      for (const action of DELIVERY_ACTIONS) {
        const ok = await simulate({
          identityPolicies: documents.map((policy, i) => ({ name: `p${i}`, policy })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(boundary ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: boundary }] } : {}),
          request: {
            action,
            principal: ROLE_ARN,
            resource: { accountId: ACCOUNT, resource: stream },
            contextVariables,
          },
        });
        if (!ok)
          return { allowed: false, refused: `${action} ${stream} ${JSON.stringify(contextVariables)}` };
      }
    }
  }
  return { allowed: true };
}

/** Whether the simulator lets cloudtrail.amazonaws.com assume the role. */
function simulatorTrusts(trustPolicy: PolicyDocument, contextVariables: Record<string, string>) {
  return simulate({
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: trustPolicy,
    request: {
      action: 'sts:AssumeRole',
      principal: 'cloudtrail.amazonaws.com',
      resource: { accountId: ACCOUNT, resource: ROLE_ARN },
      contextVariables,
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Permission policies from a small vocabulary.

const ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:*', 's3:GetObject', '*'];
/** The brief vocabulary: patterns that either contain each other or are disjoint. */
const RESOURCES = [STREAMS, ORG_STREAMS, `${GROUP}:*`, `${OTHER_GROUP}:*`, '*'];
/**
 * Patterns that overlap the requested ones without containing them or being contained (a `?`, a wildcard in
 * another segment, one concrete stream): where comparing patterns as text is not enough.
 */
const TRICKY_RESOURCES = [
  `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}`,
  `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}?`,
  `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}_*`,
  `${GROUP}:log-stream:*_xyz`,
  `arn:aws:logs:*:*:log-group:*:log-stream:*_CloudTrail_${REGION}`,
  `arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ACCOUNT}_CloudTrail_*`,
];
const CONDITIONS: Record<string, Record<string, string>>[] = [
  { StringEquals: { 'aws:RequestedRegion': REGION } },
  { Bool: { 'aws:SecureTransport': 'false' } },
  { StringNotEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
];

const listOf = (values: string[]) =>
  fc
    .subarray(values, { minLength: 1, maxLength: 2 })
    .map((list) => (list.length === 1 ? list[0] : list) as string | string[]);

function statementArb(resources: string[], withConditions: boolean): fc.Arbitrary<Statement> {
  return fc
    .record({
      effect: fc.constantFrom('Allow', 'Deny'),
      notAction: fc.boolean(),
      actions: listOf(ACTIONS),
      notResource: fc.boolean(),
      resources: listOf(resources),
      condition: withConditions
        ? fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined, freq: 2 })
        : fc.constant(undefined),
    })
    .map(({ effect, notAction, actions, notResource, resources: rs, condition }) => ({
      Effect: effect,
      [notAction ? 'NotAction' : 'Action']: actions,
      [notResource ? 'NotResource' : 'Resource']: rs,
      ...(condition ? { Condition: condition } : {}),
    }));
}

/** A documented grant now and then, so that allowed cases are common enough to test. */
const GRANTS: Statement[] = [
  { Effect: 'Allow', Action: [...DELIVERY_ACTIONS], Resource: [STREAMS, ORG_STREAMS] },
  { Effect: 'Allow', Action: 'logs:*', Resource: `${GROUP}:*` },
  { Effect: 'Allow', Action: '*', Resource: '*' },
];

function documentArb(resources: string[], withConditions: boolean): fc.Arbitrary<PolicyDocument> {
  return fc
    .tuple(
      fc.option(fc.constantFrom(...GRANTS), { nil: undefined }),
      fc.array(statementArb(resources, withConditions), { minLength: 0, maxLength: 3 }),
    )
    .map(([grant, rest]) => doc(grant ? [grant, ...rest] : rest));
}

interface PermissionCase {
  documents: PolicyDocument[];
  boundary: PolicyDocument | undefined;
  requested: readonly string[];
}

function permissionCaseArb(
  resources: string[],
  opts: { conditions: boolean; boundary: boolean },
): fc.Arbitrary<PermissionCase> {
  return fc.record({
    documents: fc.array(documentArb(resources, opts.conditions), { minLength: 1, maxLength: 2 }),
    boundary: opts.boundary
      ? fc.option(documentArb(resources, opts.conditions), { nil: undefined, freq: 4 })
      : fc.constant(undefined),
    requested: fc.constantFrom(...REQUESTS),
  });
}

async function checkPermissions(c: PermissionCase, equality: boolean): Promise<void> {
  const ours = allowsDelivery(c.documents, c.requested, c.boundary);
  expect(ours).toBe(deliveryDenial(c.documents, c.requested, c.boundary) === undefined);
  const contexts = hasCondition([...c.documents, c.boundary]) ? CONTEXTS : [{}];
  for (const context of contexts) {
    const sim = await simulatorAllowsDelivery(c.documents, c.requested, c.boundary, context);
    // Sound: what ours allows, IAM allows.
    if (ours && !sim.allowed) {
      throw new Error(`ours allows delivery, the simulator refuses ${sim.refused}`);
    }
    if (equality && !ours && sim.allowed) {
      throw new Error(
        `ours refuses delivery (${deliveryDenial(c.documents, c.requested, c.boundary)}), the simulator allows every concrete stream`,
      );
    }
  }
}

/** Minimal counterexamples, tried first on every run (see the report of issue 9's test update). */
const PERMISSION_EXAMPLES: [PermissionCase][] = [
  [
    {
      // A Deny whose pattern overlaps the streams without either pattern matching the other's text.
      documents: [
        doc([
          { Effect: 'Allow', Action: [...DELIVERY_ACTIONS], Resource: STREAMS },
          {
            Effect: 'Deny',
            Action: 'logs:*',
            Resource: `arn:aws:logs:*:*:log-group:*:log-stream:*_CloudTrail_${REGION}`,
          },
        ]),
      ],
      boundary: undefined,
      requested: [STREAMS],
    },
  ],
  [
    {
      // `?` matches the `*` of the pattern's text, but no concrete stream without one more character.
      documents: [
        doc([
          {
            Effect: 'Allow',
            Action: [...DELIVERY_ACTIONS],
            Resource: `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}?`,
          },
        ]),
      ],
      boundary: undefined,
      requested: [STREAMS],
    },
  ],
  [
    {
      // An Allow whose NotResource excludes some of the streams.
      documents: [doc([{ Effect: 'Allow', Action: 'logs:*', NotResource: `${GROUP}:log-stream:*_xyz` }])],
      boundary: undefined,
      requested: [STREAMS],
    },
  ],
];

describe('allowsDelivery / deliveryDenial agree with iam-simulate', () => {
  it('no condition, no boundary: ours allows <=> the simulator allows every concrete stream', async () => {
    await fc.assert(
      fc.asyncProperty(permissionCaseArb(RESOURCES, { conditions: false, boundary: false }), (c) =>
        checkPermissions(c, true),
      ),
      { numRuns: RUNS },
    );
  });

  it('no condition, with a permissions boundary: ours allows <=> the simulator allows', async () => {
    await fc.assert(
      fc.asyncProperty(permissionCaseArb(RESOURCES, { conditions: false, boundary: true }), (c) =>
        checkPermissions(c, true),
      ),
      { numRuns: RUNS },
    );
  });

  it('with conditions, with or without a boundary: ours allows => the simulator allows, in every context', async () => {
    await fc.assert(
      fc.asyncProperty(permissionCaseArb(RESOURCES, { conditions: true, boundary: true }), (c) =>
        checkPermissions(c, false),
      ),
      { numRuns: RUNS },
    );
  });

  it('patterns that overlap without containing each other: ours allows => the simulator allows', async () => {
    await fc.assert(
      fc.asyncProperty(
        permissionCaseArb([...RESOURCES, ...TRICKY_RESOURCES], { conditions: true, boundary: true }),
        (c) => checkPermissions(c, false),
      ),
      { numRuns: RUNS, examples: PERMISSION_EXAMPLES },
    );
  });

  it('the oracle itself: the documented grant is allowed, a Deny or a boundary refuses', async () => {
    const grant = doc([GRANTS[0] ?? {}]);
    expect((await simulatorAllowsDelivery([grant], [STREAMS, ORG_STREAMS], undefined, {})).allowed).toBe(
      true,
    );
    expect(
      (
        await simulatorAllowsDelivery(
          [grant, doc([{ Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' }])],
          [STREAMS],
          undefined,
          {},
        )
      ).allowed,
    ).toBe(false);
    expect(
      (
        await simulatorAllowsDelivery(
          [grant],
          [STREAMS],
          doc([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]),
          {},
        )
      ).allowed,
    ).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Trust policies from a small vocabulary.

const CLOUDTRAIL = 'cloudtrail.amazonaws.com';
const PRINCIPALS: Statement[] = [
  { Principal: { Service: CLOUDTRAIL } },
  { Principal: { Service: ['ec2.amazonaws.com', CLOUDTRAIL] } },
  { Principal: { Service: 'ec2.amazonaws.com' } },
  { Principal: '*' },
  { Principal: { AWS: '*' } },
  { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } },
];
/** NotPrincipal: "every principal except"; AWS documents it for Deny statements. */
const NOT_PRINCIPALS: Statement[] = [
  { NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } },
  { NotPrincipal: { Service: 'ec2.amazonaws.com' } },
  { NotPrincipal: { Service: CLOUDTRAIL } },
];
const TRUST_ACTIONS: Statement[] = [
  { Action: 'sts:AssumeRole' },
  { Action: 'sts:*' },
  { Action: '*' },
  { Action: 'sts:TagSession' },
  { Action: ['sts:TagSession', 'sts:AssumeRole'] },
  { NotAction: 'sts:TagSession' },
  { NotAction: 'sts:AssumeRole' },
];
const TRUST_CONDITIONS: Record<string, Record<string, string>>[] = [
  { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
  { ArnLike: { 'aws:SourceArn': `arn:aws:cloudtrail:*:${ACCOUNT}:trail/*` } },
  { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
  { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } },
];
/** What CloudTrail sends when it assumes the delivery role (no aws:SourceArn / aws:SourceAccount), and more. */
const TRUST_CONTEXTS: Record<string, string>[] = [
  {},
  { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': TRAIL_ARN },
  { 'aws:SourceAccount': '210987654321', 'aws:SourceArn': TRAIL_ARN },
];

function trustStatementArb(notPrincipal: boolean, withConditions: boolean): fc.Arbitrary<Statement> {
  return (
    fc
      .record({
        effect: fc.constantFrom('Allow', 'Deny'),
        principal: fc.constantFrom(...PRINCIPALS, ...(notPrincipal ? NOT_PRINCIPALS : [])),
        action: fc.constantFrom(...TRUST_ACTIONS),
        condition: withConditions
          ? fc.option(fc.constantFrom(...TRUST_CONDITIONS), { nil: undefined, freq: 2 })
          : fc.constant(undefined),
      })
      .map(({ effect, principal, action, condition }) => ({
        Effect: effect,
        ...principal,
        ...action,
        ...(condition ? { Condition: condition } : {}),
      }))
      // AWS: NotPrincipal with Allow is not supported in role trust policies; generate it with Deny only.
      .filter((s) => !(s.Effect === 'Allow' && 'NotPrincipal' in s))
  );
}

const trustArb = (notPrincipal: boolean, withConditions: boolean) =>
  fc
    .tuple(
      fc.option(
        fc.constant({ Effect: 'Allow', Principal: { Service: CLOUDTRAIL }, Action: 'sts:AssumeRole' }),
        {
          nil: undefined,
        },
      ),
      fc.array(trustStatementArb(notPrincipal, withConditions), { minLength: 0, maxLength: 3 }),
    )
    .map(([plain, rest]) => doc(plain ? [plain, ...rest] : rest));

async function checkTrust(trustPolicy: PolicyDocument, equality: boolean): Promise<void> {
  const verdict = cloudTrailTrust(trustPolicy);
  expect(trustsCloudTrail(trustPolicy)).toBe(verdict.trusted);
  if (!verdict.trusted) expect(verdict.reason).toBeTruthy();
  const contexts = hasCondition([trustPolicy]) ? TRUST_CONTEXTS : [{}];
  for (const context of contexts) {
    const sim = await simulatorTrusts(trustPolicy, context);
    if (verdict.trusted && !sim) {
      throw new Error(
        `ours trusts CloudTrail, the simulator refuses with context ${JSON.stringify(context)}`,
      );
    }
    if (equality && !verdict.trusted && sim) {
      throw new Error(`ours refuses CloudTrail (${verdict.reason}), the simulator allows`);
    }
  }
}

/** Minimal counterexamples, tried first on every run. */
const TRUST_EXAMPLES: [PolicyDocument][] = [
  [
    // A Deny for everyone but the account root also refuses CloudTrail.
    doc([
      { Effect: 'Allow', Principal: { Service: CLOUDTRAIL }, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
    ]),
  ],
];

describe('trustsCloudTrail agrees with iam-simulate', () => {
  it('no condition: ours trusts <=> the simulator lets CloudTrail assume the role', async () => {
    await fc.assert(
      fc.asyncProperty(trustArb(false, false), (t) => checkTrust(t, true)),
      { numRuns: RUNS },
    );
  });

  it('with conditions: ours trusts => the simulator allows, with what CloudTrail sends and with any other context', async () => {
    await fc.assert(
      fc.asyncProperty(trustArb(false, true), (t) => checkTrust(t, false)),
      { numRuns: RUNS },
    );
  });

  it('a conditioned Allow alone never counts, though the simulator would allow it given the key', async () => {
    for (const Condition of TRUST_CONDITIONS.slice(0, 2)) {
      const t = doc([
        { Effect: 'Allow', Principal: { Service: CLOUDTRAIL }, Action: 'sts:AssumeRole', Condition },
      ]);
      expect(trustsCloudTrail(t)).toBe(false);
      // Without the key (CloudTrail does not send it for this role) IAM refuses too.
      expect(await simulatorTrusts(t, {})).toBe(false);
      expect(await simulatorTrusts(t, { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': TRAIL_ARN })).toBe(
        true,
      );
    }
  });

  it('NotPrincipal in a Deny: ours trusts => the simulator allows', async () => {
    await fc.assert(
      fc.asyncProperty(trustArb(true, true), (t) => checkTrust(t, false)),
      { numRuns: RUNS, examples: TRUST_EXAMPLES },
    );
  });
});
