/**
 * Acting in the accounts a hub guards. The hub's functions (and the local runner) hold their own credentials;
 * for any other guarded account they assume one of that account's member roles (policies/iam.ts MEMBER_ROLES,
 * named from `config.remediationRoleName`, default `trailguard-remediation`: `-read`, `-log-group`, `-role`,
 * `-trail`, `-findings`; created by the spoke) with STS AssumeRole, and act with those credentials in the trail's
 * home region. Which role: the caller's (MEMBER_ROLE_OF of the step); the read-only role when none is named, so
 * the sweep, `check` and anything else that only reads never holds a repair role. Credentials are cached per
 * account and role until shortly before they expire, so a Lambda invocation (or a CLI run) makes at most one
 * AssumeRole per account and role.
 *
 * Which accounts are guarded is the configuration's `accounts`: absent, only the hub's own account (a single
 * account deployment); a list, exactly those; `"organization"`, any account of the organization (the hub bus
 * admits events only from the organization, and the sweep lists the organization's accounts).
 */
import { createRequire } from 'node:module';
import type { Config } from '../../policies/config.js';
import { type MemberRole, memberRoleName } from '../../policies/iam.js';
import { partitionOf, roleArn } from '../domain/arns.js';
import { awsErrorName, isTransient, TrailguardError, TransientAwsError } from '../domain/errors.js';
import { type AwsClients, type ClientOptions, createClients } from './clients.js';

/** The remediation role of an account cannot be assumed (missing, or its trust does not admit the hub). */
export class AccountAccessError extends TrailguardError {
  override name = 'AccountAccessError';
}

/**
 * The account has no trailguard spoke this hub may use: a coverage gap (the account is outside the StackSet's
 * OUs, or the management account's spoke is not deployed yet), not a failure. `toldBy` says how it was told:
 * deployed, from STS AssumeRole's AccessDenied (AWS answers AccessDenied both when the role does not exist and
 * when its trust does not admit the caller: "AssumeRole", STS API reference, Errors); locally, from IAM GetRole's
 * NoSuchEntity (moto grants AssumeRole for any role ARN, so the role is looked up).
 */
export class AccountNotEnrolledError extends AccountAccessError {
  override name = 'AccountNotEnrolledError';
  readonly toldBy: string;
  constructor(message: string, toldBy: string, options?: ErrorOptions) {
    super(message, options);
    this.toldBy = toldBy;
  }
}

/** Whether an STS error is AssumeRole's AccessDenied (the role missing, or its trust not admitting the caller). */
export function isAssumeRoleDenied(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'AccessDenied' || name === 'AccessDeniedException';
}

/** Whether the configuration guards `account` (the hub's own account always is). */
export function isGuardedAccount(
  config: Pick<Config, 'accounts'>,
  account: string,
  hubAccount: string,
): boolean {
  if (account === hubAccount) return true;
  if (config.accounts === 'organization') return true;
  return config.accounts?.includes(account) ?? false;
}

/** Why `account` is not guarded, for the run's reason (undefined when it is). */
export function unguardedReason(
  config: Pick<Config, 'accounts'>,
  account: string,
  hubAccount: string,
): string | undefined {
  if (isGuardedAccount(config, account, hubAccount)) return undefined;
  const which =
    config.accounts === undefined || config.accounts === 'organization'
      ? `only its own account ${hubAccount}`
      : `accounts ${config.accounts.join(', ')}`;
  return `account ${account} is not guarded by this hub (it guards ${which})`;
}

export interface AccountAccess {
  /** The account the hub runs in. */
  readonly hubAccount: string;
  /**
   * Clients acting in `account`: the hub's own for its account, else through the account's member role `role`
   * (default `read`, the read-only role).
   */
  clientsFor(account: string, role?: MemberRole): Promise<AwsClients>;
  /** How many AssumeRole calls were made, by account, all roles together (the benchmark's "one per account"). */
  readonly assumed: ReadonlyMap<string, number>;
}

export interface AccountAccessOptions {
  hubAccount: string;
  /** config.remediationRoleName: the member roles' base name (policies/iam.ts memberRoleName). */
  roleName: string;
  /** The role session name: who acted, as the member account's CloudTrail shows it. */
  sessionName?: string;
  /** Passed to every member account's clients (tests, the benchmark and tracing add middleware here). */
  onCreate?: ClientOptions['onCreate'];
  maxAttempts?: number;
  /** Milliseconds (default Date.now), for the credentials' expiry. */
  now?: () => number;
  /**
   * Called once the role was assumed: throws AccountNotEnrolledError when the role turns out not to exist. Only
   * the local layer sets it (services/local/organization.ts: moto grants AssumeRole for any role ARN); on AWS
   * AssumeRole itself refuses a missing role.
   */
  confirmRole?: (clients: AwsClients, roleArn: string, account: string) => Promise<void>;
}

/** Credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000;

const load = createRequire(import.meta.url);

/** The ARN of role `roleName` of `account`, in the partition of `region`. */
export function remediationRoleArn(account: string, roleName: string, region: string): string {
  return roleArn({ partition: partitionOf(region), account, name: roleName });
}

/** The ARN of member role `role` of `account` (base name config.remediationRoleName), in `region`'s partition. */
export function memberRoleArn(
  account: string,
  remediationRoleName: string,
  role: MemberRole,
  region: string,
): string {
  return remediationRoleArn(account, memberRoleName(remediationRoleName, role), region);
}

export interface AssumedClients {
  clients: AwsClients;
  /** When the credentials expire, as STS said. */
  expiration?: Date;
}

/**
 * Clients acting with the credentials of role `arn`, from sts:AssumeRole made with `hub`'s clients: the one place
 * a role's credentials become clients (the hub's account access, `local-setup`'s bootstrap role, seeding the
 * accounts of a local organization). Throws what STS throws, and AccountAccessError when it returns no
 * credentials.
 */
export async function clientsAssumingRole(
  hub: AwsClients,
  arn: string,
  options: {
    sessionName: string;
    /** The clients' default region. */
    region: string;
    durationSeconds?: number;
    onCreate?: ClientOptions['onCreate'];
    maxAttempts?: number;
  },
): Promise<AssumedClients> {
  const { AssumeRoleCommand } = load('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  const out = await hub.sts().send(
    new AssumeRoleCommand({
      RoleArn: arn,
      RoleSessionName: options.sessionName.slice(0, 64),
      ...(options.durationSeconds ? { DurationSeconds: options.durationSeconds } : {}),
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new AccountAccessError(`AssumeRole ${arn} returned no credentials`);
  }
  const clients = createClients({
    defaultRegion: options.region,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    },
    ...(options.onCreate ? { onCreate: options.onCreate } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
  return { clients, ...(c.Expiration ? { expiration: c.Expiration } : {}) };
}

/** Account access from the hub's clients. */
export function accountAccess(hub: AwsClients, options: AccountAccessOptions): AccountAccess {
  const now = options.now ?? Date.now;
  const assumed = new Map<string, number>();
  const cache = new Map<string, Promise<{ clients: AwsClients; expires: number }>>();

  async function assume(
    account: string,
    role: MemberRole,
  ): Promise<{ clients: AwsClients; expires: number }> {
    const roleArn = memberRoleArn(account, options.roleName, role, hub.defaultRegion);
    assumed.set(account, (assumed.get(account) ?? 0) + 1);
    let out: AssumedClients;
    try {
      out = await clientsAssumingRole(hub, roleArn, {
        sessionName: options.sessionName ?? 'trailguard',
        region: hub.defaultRegion,
        durationSeconds: 3600,
        ...(options.onCreate ? { onCreate: options.onCreate } : {}),
        ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      });
    } catch (error) {
      if (error instanceof AccountAccessError) throw error;
      if (isTransient(error)) {
        throw new TransientAwsError(`AssumeRole ${roleArn}: ${(error as Error).message}`, { cause: error });
      }
      if (isAssumeRoleDenied(error)) {
        throw new AccountNotEnrolledError(
          `account ${account} is not enrolled: AssumeRole ${roleArn} was refused (AccessDenied: the role does not exist there, or its trust does not admit this hub); is the spoke deployed there?`,
          "STS AssumeRole's AccessDenied",
          { cause: error },
        );
      }
      throw new AccountAccessError(
        `cannot act in account ${account}: AssumeRole ${roleArn} failed (${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}); is the spoke deployed there, and does its role trust this hub?`,
        { cause: error },
      );
    }
    await options.confirmRole?.(out.clients, roleArn, account);
    return { clients: out.clients, expires: out.expiration?.getTime() ?? now() + 3600_000 };
  }

  return {
    hubAccount: options.hubAccount,
    assumed,
    async clientsFor(account: string, role: MemberRole = 'read'): Promise<AwsClients> {
      if (account === options.hubAccount) return hub;
      const key = `${account}/${role}`;
      let entry = cache.get(key);
      if (entry) {
        const held = await entry.catch(() => undefined);
        if (!held || held.expires - RENEW_BEFORE_MS <= now()) entry = undefined;
      }
      if (!entry) {
        entry = assume(account, role);
        cache.set(key, entry);
        entry.catch(() => cache.delete(key));
      }
      return (await entry).clients;
    },
  };
}
