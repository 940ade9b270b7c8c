/**
 * The organization a local run covers: where the hub is (the caller's account, the hub region), which accounts
 * and regions the configuration guards, and how the hub acts in the other accounts (their remediation role,
 * services/aws/accounts.ts). Shared by the local runner (replay, sweep) and the `check`, `sweep` and
 * `local-setup` commands, so they all cover the same accounts x regions.
 *
 * - Accounts: the configuration's list, or `"organization"`: the ACTIVE accounts Organizations ListAccounts
 *   returns. The hub's own account is always guarded (first in the list).
 * - Regions: the configuration's list, else the regions enabled in the hub account (EC2 DescribeRegions).
 * The same lists the hub's sweep function fans out over (services/aws/sweep-targets.ts).
 */

import { GetRoleCommand } from '@aws-sdk/client-iam';
import { type Config, configuredHubRegion, guardsSeveralRegionsOrAccounts } from '../../policies/config.js';
import {
  type AccountAccess,
  AccountNotEnrolledError,
  accountAccess,
  unguardedReason,
} from '../aws/accounts.js';
import type { AwsClients, ClientOptions } from '../aws/clients.js';
import {
  listActiveAccounts,
  guardedAccounts as listGuardedAccounts,
  guardedRegions as listGuardedRegions,
} from '../aws/sweep-targets.js';
import { readAccountId } from '../aws/trail-reader.js';
import { awsErrorName } from '../domain/errors.js';

/** The role session name the local hub uses in member accounts (what their CloudTrail shows). */
export const LOCAL_SESSION_NAME = 'trailguard-local-hub';

/**
 * Whether the configuration describes a hub: it names the accounts, the regions or the hub region. Then the
 * workflow, topic and tables are the hub's (hub region), and sweeps and checks cover accounts x regions.
 */
export function isHubConfig(config: Pick<Config, 'accounts' | 'regions' | 'hubRegion'>): boolean {
  return guardsSeveralRegionsOrAccounts(config) || config.hubRegion !== undefined;
}

/** Whether the hub acts in accounts other than its own (through their remediation role). */
export function guardsOtherAccounts(config: Pick<Config, 'accounts'>): boolean {
  return config.accounts !== undefined;
}

export interface Hub {
  /** The hub's own clients (the caller's credentials), default region = the hub region. */
  clients: AwsClients;
  /** The caller's account (STS GetCallerIdentity). */
  account: string;
  region: string;
}

/** The hub region: config.hubRegion (or a single account's first region), else the clients' region. */
export function hubRegionOf(
  config: Pick<Config, 'accounts' | 'regions' | 'hubRegion'>,
  clients: AwsClients,
): string {
  return configuredHubRegion(config) ?? clients.defaultRegion;
}

/** The hub: the caller's account, in the hub region. `clients` must act in the hub region. */
export async function resolveHub(config: Config, clients: AwsClients, account?: string): Promise<Hub> {
  return {
    clients,
    account: account ?? (await readAccountId(clients)),
    region: hubRegionOf(config, clients),
  };
}

/** Acting in guarded accounts from the hub: the hub's clients for its own, the remediation role for others. */
export function localAccountAccess(
  hub: Pick<Hub, 'clients' | 'account'>,
  config: Pick<Config, 'remediationRoleName'>,
  options: { onCreate?: ClientOptions['onCreate'] } = {},
): AccountAccess {
  return accountAccess(hub.clients, {
    hubAccount: hub.account,
    roleName: config.remediationRoleName,
    sessionName: LOCAL_SESSION_NAME,
    confirmRole: confirmRoleExists,
    ...(options.onCreate ? { onCreate: options.onCreate } : {}),
  });
}

/**
 * moto grants AssumeRole for any role ARN, so locally an account without the role (no spoke there) is told by
 * looking the role up in that account (IAM GetRole with the assumed credentials): NoSuchEntity means not enrolled,
 * as AssumeRole's AccessDenied does on AWS.
 */
export async function confirmRoleExists(
  clients: AwsClients,
  roleArn: string,
  account: string,
): Promise<void> {
  const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  try {
    await clients.iam().send(new GetRoleCommand({ RoleName: roleName }));
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchEntity' && awsErrorName(error) !== 'NoSuchEntityException')
      throw error;
    throw new AccountNotEnrolledError(
      `account ${account} is not enrolled: its role ${roleArn} does not exist; is the spoke deployed there?`,
      "IAM GetRole's NoSuchEntity (locally: moto grants AssumeRole for any role ARN, so the role is looked up)",
      { cause: error },
    );
  }
}

/** Every guarded account, the hub's first: the configured list, or the organization's active accounts. */
export function guardedAccounts(config: Pick<Config, 'accounts'>, hub: Hub): Promise<string[]> {
  return listGuardedAccounts(hub.clients, config, hub.account);
}

/**
 * Why events of `account` are not handled by this hub (undefined when they are): not configured, or (for
 * `"organization"`) not an active account of the organization. What the hub's event bus policy does.
 */
export async function unguardedAccount(
  config: Pick<Config, 'accounts'>,
  hub: Hub,
  account: string,
): Promise<string | undefined> {
  const reason = unguardedReason(config, account, hub.account);
  if (reason || config.accounts !== 'organization' || account === hub.account) return reason;
  const members = await listActiveAccounts(hub.clients);
  return members.includes(account)
    ? undefined
    : `account ${account} is not an active account of the hub's organization`;
}

export interface GuardedRegions {
  regions: string[];
  /** `config`: config.regions; `enabled`: the regions enabled in the hub's account (EC2 DescribeRegions). */
  source: 'config' | 'enabled';
}

/** The guarded regions: config.regions, else the regions enabled in the hub's account. */
export async function guardedRegions(config: Pick<Config, 'regions'>, hub: Hub): Promise<GuardedRegions> {
  return {
    regions: await listGuardedRegions(hub.clients, config),
    source: config.regions ? 'config' : 'enabled',
  };
}
