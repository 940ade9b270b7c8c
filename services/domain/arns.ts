/** Parsing and building the ARNs this product deals with. Pure. */
import { InvalidInputError } from './errors.js';

export interface TrailArn {
  partition: string;
  region: string;
  account: string;
  name: string;
  arn: string;
}

export interface LogGroupArn {
  partition: string;
  region: string;
  account: string;
  name: string;
  /** True when the ARN ends in `:*`, the form CloudTrail requires. */
  wildcardSuffix: boolean;
}

export interface RoleArn {
  partition: string;
  account: string;
  /** The role name, without its path. */
  name: string;
  path: string;
}

const TRAIL_ARN = /^arn:(aws[\w-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail\/([\w.-]{3,128})$/;
const LOG_GROUP_ARN = /^arn:(aws[\w-]*):logs:([a-z0-9-]+):(\d{12}):log-group:([\w\-./#]{1,512})(:\*)?$/;
const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/;
/** CloudTrail trail names: 3-128 chars, letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit. */
const TRAIL_NAME = /^[A-Za-z0-9](?:[\w.-]{1,126})[A-Za-z0-9]$/;

export function parseTrailArn(value: string): TrailArn | undefined {
  const m = TRAIL_ARN.exec(value);
  if (!m) return undefined;
  const [, partition = '', region = '', account = '', name = ''] = m;
  return { partition, region, account, name, arn: value };
}

export function isTrailName(value: string): boolean {
  return TRAIL_NAME.test(value) && !/[._-]{2}/.test(value);
}

export function parseLogGroupArn(value: string): LogGroupArn | undefined {
  const m = LOG_GROUP_ARN.exec(value);
  if (!m) return undefined;
  const [, partition = '', region = '', account = '', name = '', suffix] = m;
  return { partition, region, account, name, wildcardSuffix: suffix === ':*' };
}

export function parseRoleArn(value: string): RoleArn | undefined {
  const m = ROLE_ARN.exec(value);
  if (!m) return undefined;
  const [, partition = '', account = '', path = '/', name = ''] = m;
  return { partition, account, name, path: path || '/' };
}

export function logGroupArn(p: { partition: string; region: string; account: string; name: string }): string {
  return `arn:${p.partition}:logs:${p.region}:${p.account}:log-group:${p.name}:*`;
}

export function roleArn(p: { partition: string; account: string; name: string; path?: string }): string {
  return `arn:${p.partition}:iam::${p.account}:role${p.path ?? '/'}${p.name}`;
}

export function trailArn(p: { partition: string; region: string; account: string; name: string }): string {
  return `arn:${p.partition}:cloudtrail:${p.region}:${p.account}:trail/${p.name}`;
}

/**
 * The log-stream resources CloudTrail writes to in a log group: `ACCOUNT_CloudTrail_REGION*`, and for an
 * organization trail also the member accounts' streams `o-ORGID_*` with the organization's real id (AWS
 * CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring").
 */
export function deliveryStreamResources(p: {
  partition: string;
  region: string;
  account: string;
  logGroupName: string;
  organizationTrail: boolean;
  /** The organization's id, for an organization trail (the caller must read it: see TrailState). */
  organizationId?: string;
}): string[] {
  const group = `arn:${p.partition}:logs:${p.region}:${p.account}:log-group:${p.logGroupName}`;
  const resources = [`${group}:log-stream:${p.account}_CloudTrail_${p.region}*`];
  if (p.organizationTrail && p.organizationId !== undefined) {
    if (!ORGANIZATION_ID.test(p.organizationId)) {
      throw new InvalidInputError(`"${p.organizationId}" is not an AWS Organizations id (o-...)`);
    }
    resources.push(`${group}:log-stream:${p.organizationId}_*`);
  }
  return resources;
}

/** Organizations' id format: `o-` then 10 to 32 lowercase letters or digits. */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/**
 * One grant for every trail delivering to one of the template's log groups, in any region of the account:
 * `arn:P:logs:*:ACCOUNT:log-group:PATTERN:log-stream:ACCOUNT_CloudTrail_*` (and `o-ORGID_*` for an
 * organization's streams). Its size does not grow with the number of trails; it stays scoped to the account,
 * to the log group names trailguard manages and to CloudTrail's own stream names.
 */
export function templateDeliveryResources(p: {
  partition: string;
  account: string;
  /** The template with each variable as `*` (managedLogGroupPattern). */
  logGroupPattern: string;
  organizationId?: string;
}): string[] {
  const group = `arn:${p.partition}:logs:*:${p.account}:log-group:${p.logGroupPattern}`;
  const resources = [`${group}:log-stream:${p.account}_CloudTrail_*`];
  if (p.organizationId !== undefined) {
    if (!ORGANIZATION_ID.test(p.organizationId)) {
      throw new InvalidInputError(`"${p.organizationId}" is not an AWS Organizations id (o-...)`);
    }
    resources.push(`${group}:log-stream:${p.organizationId}_*`);
  }
  return resources;
}

/** The partition a region belongs to. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}
