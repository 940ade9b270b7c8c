/**
 * Just enough IAM policy evaluation to answer two questions about a CloudTrail delivery role, without AWS:
 * may cloudtrail.amazonaws.com assume it, and may it create log streams and put log events on a given
 * stream resource. Conservative: a statement with a condition never grants, while any matching Deny
 * (conditional or not) refuses. Pure. Cross-checked against an independent IAM simulator in the tests
 * (test/unit/domain/policy-eval.oracle.test.ts); that simulator is AGPL-licensed, so it stays a test-only
 * dependency and is never bundled into the functions.
 */
import type { PolicyDocument } from './trail-state.js';

export const CLOUDTRAIL_SERVICE = 'cloudtrail.amazonaws.com';
export const DELIVERY_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

interface Statement {
  Sid?: string;
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: unknown;
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function statementsOf(document: PolicyDocument | undefined): Statement[] {
  const raw = document?.Statement;
  if (Array.isArray(raw)) return raw.filter((s): s is Statement => !!s && typeof s === 'object');
  if (raw && typeof raw === 'object') return [raw as Statement];
  return [];
}

/** IAM wildcard match: `*` any run, `?` one character. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's').test(value);
}

function actionMatches(statement: Statement, action: string): boolean {
  if (statement.Action !== undefined)
    return asList(statement.Action).some((a) => wildcardMatch(a, action, true));
  if (statement.NotAction !== undefined)
    return !asList(statement.NotAction).some((a) => wildcardMatch(a, action, true));
  return false;
}

/**
 * Whether every ARN the glob `requested` can name is named by the glob `pattern` (IAM wildcards: `*` any run,
 * `?` one character). Symbolic matching: a `*` of `requested` can only be absorbed by a `*` of `pattern`, its
 * `?` by a `?` or `*`. Sound (true only when the inclusion holds), so a grant is never over-counted.
 */
export function globCovers(pattern: string, requested: string): boolean {
  const memo = new Map<number, boolean>();
  const m = requested.length;
  const go = (i: number, j: number): boolean => {
    const key = i * (m + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let out: boolean;
    if (i === pattern.length) out = j === m;
    else if (pattern[i] === '*') out = go(i + 1, j) || (j < m && go(i, j + 1));
    else if (j === m) out = false;
    else if (requested[j] === '*') out = false;
    else if (pattern[i] === '?') out = go(i + 1, j + 1);
    else if (requested[j] === '?') out = false;
    else out = pattern[i] === requested[j] && go(i + 1, j + 1);
    memo.set(key, out);
    return out;
  };
  return go(0, 0);
}

/**
 * Whether some ARN is named by both globs (a Deny on `a` can apply to a request on `b`). Exact for globs, with
 * one fact about the requested side: its `*` stands for the rest of a log stream name, and CloudWatch Logs
 * stream names never contain ":" (CloudWatch Logs API Reference, CreateLogStream: "The ':' (colon) and '*'
 * (asterisk) characters are not allowed"). So `arn:aws:logs:*:*:log-group:other:*` does not meet the streams
 * of `CloudTrail/main`.
 */
export function globsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const m = b.length;
  const go = (i: number, j: number): boolean => {
    const key = i * (m + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let out: boolean;
    if (i < a.length && a[i] === '*') out = go(i + 1, j) || (j < m && go(i, j + 1));
    else if (j < m && b[j] === '*') out = go(i, j + 1) || (i < a.length && a[i] !== ':' && go(i + 1, j));
    else if (i === a.length || j === m) out = i === a.length && j === m;
    else out = (a[i] === '?' || b[j] === '?' || a[i] === b[j]) && go(i + 1, j + 1);
    memo.set(key, out);
    return out;
  };
  return go(0, 0);
}

/** Whether an Allow statement's resources cover every resource the requested pattern can name. */
function resourceCovers(statement: Statement, resource: string): boolean {
  if (statement.Resource !== undefined)
    return asList(statement.Resource).some((r) => globCovers(r, resource));
  // NotResource: allowed only where no excluded pattern can meet the requested one.
  if (statement.NotResource !== undefined)
    return !asList(statement.NotResource).some((r) => globsOverlap(r, resource));
  return false;
}

/** Whether a Deny statement's resources can meet any resource the requested pattern names. */
function resourceOverlaps(statement: Statement, resource: string): boolean {
  if (statement.Resource !== undefined)
    return asList(statement.Resource).some((r) => globsOverlap(r, resource));
  // NotResource: the Deny spares only what an excluded pattern covers wholly.
  if (statement.NotResource !== undefined)
    return !asList(statement.NotResource).some((r) => globCovers(r, resource));
  return false;
}

function hasCondition(statement: Statement): boolean {
  return (
    !!statement.Condition &&
    typeof statement.Condition === 'object' &&
    Object.keys(statement.Condition).length > 0
  );
}

/**
 * True when the role may call every delivery action on every resource: an unconditioned Allow in its
 * permission policies (inline and attached) and, when it has a permissions boundary, in the boundary too, with
 * no Deny in either that could apply. This is how IAM combines identity policies and a permissions boundary
 * (IAM User Guide, "Policy evaluation logic": the request must be allowed by both, and an explicit Deny in
 * either wins).
 */
export function allowsDelivery(
  documents: readonly PolicyDocument[],
  resources: readonly string[],
  boundary?: PolicyDocument,
): boolean {
  return deliveryDenial(documents, resources, boundary) === undefined;
}

/** Why the role may not deliver (`deny`, `boundary` or `missing`), or undefined when it may. */
export function deliveryDenial(
  documents: readonly PolicyDocument[],
  resources: readonly string[],
  boundary?: PolicyDocument,
): 'deny' | 'boundary' | 'missing' | undefined {
  const statements = documents.flatMap(statementsOf);
  const boundaryStatements = boundary ? statementsOf(boundary) : undefined;
  const denies = (list: Statement[], action: string, resource: string) =>
    list.some((s) => s.Effect === 'Deny' && actionMatches(s, action) && resourceOverlaps(s, resource));
  const allows = (list: Statement[], action: string, resource: string) =>
    list.some(
      (s) =>
        s.Effect === 'Allow' && !hasCondition(s) && actionMatches(s, action) && resourceCovers(s, resource),
    );
  for (const action of DELIVERY_ACTIONS) {
    for (const resource of resources) {
      if (denies(statements, action, resource)) return 'deny';
      if (
        boundaryStatements &&
        (denies(boundaryStatements, action, resource) || !allows(boundaryStatements, action, resource))
      )
        return 'boundary';
      if (!allows(statements, action, resource)) return 'missing';
    }
  }
  return undefined;
}

function principalNamesService(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const p = principal as Record<string, unknown>;
  if (p.AWS === '*') return true;
  return asList(p.Service).includes(service);
}

/**
 * Whether a trust statement is about CloudTrail's sts:AssumeRole. A `NotPrincipal` statement applies to every
 * principal it does not name: a Deny with it refuses CloudTrail unless it names the service; an Allow with it
 * is not counted as trust (IAM discourages it, and it cannot be shown to include the service).
 */
function appliesToService(s: Statement, service: string): boolean {
  if (!actionMatches(s, 'sts:AssumeRole')) return false;
  if (s.NotPrincipal !== undefined)
    return s.Effect === 'Deny' && !principalNamesService(s.NotPrincipal, service);
  return principalNamesService(s.Principal, service);
}

/**
 * Condition keys that AWS documents as NOT supported for the CloudTrail-to-CloudWatch-Logs delivery role:
 * "Confused deputy prevention is not applicable to the role policy for CloudWatch Logs monitoring. The role
 * policy does not support using aws:SourceArn and aws:SourceAccount." (AWS CloudTrail User Guide, "Role policy
 * document for CloudTrail to use CloudWatch Logs for monitoring"). A trust statement that depends on them never
 * matches CloudTrail's AssumeRole for delivery.
 */
export const UNSUPPORTED_TRUST_KEYS = ['aws:SourceArn', 'aws:SourceAccount'] as const;

/** The condition keys a statement depends on, as written. */
function conditionKeys(statement: Statement): string[] {
  if (!statement.Condition || typeof statement.Condition !== 'object') return [];
  return Object.values(statement.Condition as Record<string, unknown>).flatMap((block) =>
    block && typeof block === 'object' ? Object.keys(block as Record<string, unknown>) : [],
  );
}

const appliesToCloudTrail = (s: Statement) => appliesToService(s, CLOUDTRAIL_SERVICE);

/** Whether CloudTrail may assume the role for delivery, and if not, why (for the finding's message). */
export interface TrustVerdict {
  trusted: boolean;
  reason?: string;
}

/**
 * May cloudtrail.amazonaws.com call sts:AssumeRole to deliver to CloudWatch Logs? Only an Allow with no
 * condition counts: CloudTrail does not send aws:SourceArn / aws:SourceAccount for this role (see
 * UNSUPPORTED_TRUST_KEYS), and no other key is documented for it, so a conditioned Allow cannot be shown to
 * match. Any Deny aimed at CloudTrail's AssumeRole refuses (a negated condition on an absent key is true).
 */
export function cloudTrailTrust(trustPolicy: PolicyDocument | undefined): TrustVerdict {
  const statements = statementsOf(trustPolicy).filter(appliesToCloudTrail);
  if (statements.some((s) => s.Effect === 'Deny')) {
    return { trusted: false, reason: 'a Deny statement refuses sts:AssumeRole to cloudtrail.amazonaws.com' };
  }
  const allows = statements.filter((s) => s.Effect === 'Allow');
  if (allows.some((s) => !hasCondition(s))) return { trusted: true };
  if (allows.length === 0) {
    return { trusted: false, reason: 'no statement allows cloudtrail.amazonaws.com to call sts:AssumeRole' };
  }
  const keys = [...new Set(allows.flatMap(conditionKeys))];
  const unsupported = keys.filter((k) =>
    (UNSUPPORTED_TRUST_KEYS as readonly string[]).some((u) => u.toLowerCase() === k.toLowerCase()),
  );
  const others = keys.filter((k) => !unsupported.includes(k));
  const reasons = [
    ...(unsupported.length
      ? [
          `${unsupported.join(' and ')}, which CloudTrail does not send when it assumes a CloudWatch Logs delivery role (AWS: "Role policy document for CloudTrail to use CloudWatch Logs for monitoring")`,
        ]
      : []),
    ...(others.length
      ? [`condition keys (${others.join(', ')}) that CloudTrail is not documented to send`]
      : []),
  ];
  return {
    trusted: false,
    reason: `its Allow for cloudtrail.amazonaws.com depends on ${reasons.join('; and on ')}`,
  };
}

/** True when the trust policy lets cloudtrail.amazonaws.com assume the role for delivery (cloudTrailTrust). */
export function trustsCloudTrail(trustPolicy: PolicyDocument | undefined): boolean {
  return cloudTrailTrust(trustPolicy).trusted;
}

/** The guardrail's trust statement: CloudTrail, no condition (the keys are not supported for this role). */
export const TRUST_STATEMENT_SID = 'TrailguardAllowCloudTrail';
export function cloudTrailTrustStatement(): Record<string, unknown> {
  return {
    Sid: TRUST_STATEMENT_SID,
    Effect: 'Allow',
    Principal: { Service: CLOUDTRAIL_SERVICE },
    Action: 'sts:AssumeRole',
  };
}

/**
 * Repairs a trust policy for CloudTrail keeping every other statement as it is (other principals, other
 * teams' statements, a Deny someone meant as a guard): it replaces only the guardrail's own statement (by Sid;
 * earlier versions conditioned it on aws:SourceAccount, which AWS does not support for this role) with the
 * unconditioned one. When a kept Deny still refuses CloudTrail, the result does not trust it: the caller must
 * check (cloudTrailTrust) and refuse to call that a repair.
 */
export function repairTrustPolicy(trustPolicy: PolicyDocument | undefined): PolicyDocument {
  const kept = statementsOf(trustPolicy).filter((s) => s.Sid !== TRUST_STATEMENT_SID);
  return {
    ...(typeof trustPolicy?.Id === 'string' ? { Id: trustPolicy.Id } : {}),
    Version: '2012-10-17',
    Statement: [...kept, cloudTrailTrustStatement()],
  };
}

/** The least-privilege inline policy for delivering one log group's CloudTrail streams. */
export function deliveryPolicy(resources: readonly string[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'TrailguardCloudTrailDelivery',
        Effect: 'Allow',
        Action: [...DELIVERY_ACTIONS],
        Resource: [...resources],
      },
    ],
  };
}
