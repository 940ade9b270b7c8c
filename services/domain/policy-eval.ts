/**
 * Just enough IAM policy evaluation to answer two questions about a CloudTrail delivery role, without AWS:
 * may cloudtrail.amazonaws.com assume it, and may it create log streams and put log events on a given
 * stream resource. Conservative: a statement with a condition we cannot evaluate never grants, while any
 * matching Deny (conditional or not) refuses. Pure.
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
 * Whether a statement's resources cover every resource the given pattern can name. A resource pattern in a
 * statement covers a requested pattern when it matches the requested pattern text itself (so `...:*` covers
 * `...:log-stream:123_CloudTrail_us-east-1*`, but `...:log-stream:abc` does not).
 */
function resourceCovers(statement: Statement, resource: string): boolean {
  if (statement.Resource !== undefined)
    return asList(statement.Resource).some((r) => wildcardMatch(r, resource));
  if (statement.NotResource !== undefined)
    return !asList(statement.NotResource).some(
      (r) => wildcardMatch(r, resource) || wildcardMatch(resource, r),
    );
  return false;
}

/** Whether a Deny statement's resources overlap a requested resource pattern in any way. */
function resourceOverlaps(statement: Statement, resource: string): boolean {
  if (statement.Resource !== undefined)
    return asList(statement.Resource).some((r) => wildcardMatch(r, resource) || wildcardMatch(resource, r));
  if (statement.NotResource !== undefined)
    return !asList(statement.NotResource).some((r) => wildcardMatch(r, resource));
  return false;
}

function hasCondition(statement: Statement): boolean {
  return (
    !!statement.Condition &&
    typeof statement.Condition === 'object' &&
    Object.keys(statement.Condition).length > 0
  );
}

/** True when the permission policies allow every delivery action on every resource, with no Deny in the way. */
export function allowsDelivery(documents: readonly PolicyDocument[], resources: readonly string[]): boolean {
  const statements = documents.flatMap(statementsOf);
  return DELIVERY_ACTIONS.every((action) =>
    resources.every((resource) => {
      const denied = statements.some(
        (s) => s.Effect === 'Deny' && actionMatches(s, action) && resourceOverlaps(s, resource),
      );
      if (denied) return false;
      return statements.some(
        (s) =>
          s.Effect === 'Allow' && !hasCondition(s) && actionMatches(s, action) && resourceCovers(s, resource),
      );
    }),
  );
}

function principalNamesService(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const p = principal as Record<string, unknown>;
  if (p.AWS === '*') return true;
  return asList(p.Service).includes(service);
}

/** Trust-policy condition keys CloudTrail sets when it assumes the role, and the values it sets them to. */
export interface AssumeContext {
  account: string;
  trailArn: string;
}

const KNOWN_OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => wildcardMatch(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => wildcardMatch(p, v),
};

/** Evaluates the conditions CloudTrail's AssumeRole request can satisfy (aws:SourceAccount, aws:SourceArn). */
function conditionSatisfied(condition: unknown, context: AssumeContext): boolean {
  if (!condition || typeof condition !== 'object') return true;
  const values: Record<string, string> = {
    'aws:sourceaccount': context.account,
    'aws:sourcearn': context.trailArn,
  };
  for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
    const test = KNOWN_OPERATORS[operator];
    if (!test || !block || typeof block !== 'object') return false;
    for (const [key, expected] of Object.entries(block as Record<string, unknown>)) {
      const actual = values[key.toLowerCase()];
      if (actual === undefined) return false;
      if (!asList(expected).some((pattern) => test(pattern, actual))) return false;
    }
  }
  return true;
}

/** True when the trust policy lets cloudtrail.amazonaws.com call sts:AssumeRole for this trail. */
export function trustsCloudTrail(trustPolicy: PolicyDocument | undefined, context: AssumeContext): boolean {
  const statements = statementsOf(trustPolicy);
  const applies = (s: Statement) =>
    principalNamesService(s.Principal, CLOUDTRAIL_SERVICE) && actionMatches(s, 'sts:AssumeRole');
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some(
    (s) => s.Effect === 'Allow' && applies(s) && conditionSatisfied(s.Condition, context),
  );
}

/** The trust statement the guardrail adds: CloudTrail of this account only (confused-deputy protection). */
export function cloudTrailTrustStatement(account: string): Record<string, unknown> {
  return {
    Sid: 'TrailguardAllowCloudTrail',
    Effect: 'Allow',
    Principal: { Service: CLOUDTRAIL_SERVICE },
    Action: 'sts:AssumeRole',
    Condition: { StringEquals: { 'aws:SourceAccount': account } },
  };
}

/**
 * Repairs a trust policy for CloudTrail while keeping every other statement, including Allow statements
 * other trails sharing the role rely on (e.g. conditioned on their own aws:SourceArn): it drops only Deny
 * statements aimed at CloudTrail's AssumeRole and the guardrail's own previous statement, then adds the
 * guardrail's statement (CloudTrail of this account).
 */
export function repairTrustPolicy(
  trustPolicy: PolicyDocument | undefined,
  context: AssumeContext,
): PolicyDocument {
  const kept = statementsOf(trustPolicy).filter((s) => {
    const aimsAtCloudTrail =
      principalNamesService(s.Principal, CLOUDTRAIL_SERVICE) && actionMatches(s, 'sts:AssumeRole');
    if (!aimsAtCloudTrail) return true;
    return s.Effect !== 'Deny' && s.Sid !== 'TrailguardAllowCloudTrail';
  });
  return { Version: '2012-10-17', Statement: [...kept, cloudTrailTrustStatement(context.account)] };
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
