/**
 * What a hub guards, read from AWS: the organization's active accounts (Organizations ListAccounts, every page)
 * and the regions enabled in the hub's account (EC2 DescribeRegions, which lists only the regions enabled for
 * the account unless asked for all). With the configuration (policies/config.ts: `accounts`, `regions`) they
 * give the account x region pairs the sweep fans out over (services/aws/sweep.ts).
 */
import { createRequire } from 'node:module';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Config } from '../../policies/config.js';
import { AwsReadError, awsErrorName, isTransient, TransientAwsError } from '../domain/errors.js';
import type { AwsClients } from './clients.js';

const load = createRequire(import.meta.url);

function readError(what: string, error: unknown): Error {
  const message = `${what} failed: ${(error as Error).message || awsErrorName(error) || 'unknown error'}`;
  return isTransient(error)
    ? new TransientAwsError(message, { cause: error })
    : new AwsReadError(message, { cause: error });
}

/** The ids of the organization's ACTIVE accounts (suspended, pending-closure and closed ones are left out). */
export async function listActiveAccounts(clients: AwsClients): Promise<string[]> {
  const { paginateListAccounts } = load(
    '@aws-sdk/client-organizations',
  ) as typeof import('@aws-sdk/client-organizations');
  const ids: string[] = [];
  try {
    for await (const page of paginateListAccounts({ client: clients.organizations() }, {})) {
      for (const account of page.Accounts ?? []) {
        // `State` replaces `Status` (retired September 2026); either says ACTIVE for an account in use.
        const state = account.State ?? account.Status;
        if (account.Id && state === 'ACTIVE') ids.push(account.Id);
      }
    }
  } catch (error) {
    throw readError('Organizations ListAccounts', error);
  }
  return [...new Set(ids)].sort();
}

/**
 * The EC2 client of a set of clients: AwsClients has none, so one is made with the same credentials (the STS
 * client's provider) in the clients' default region, once per set of clients.
 */
const ec2Clients = new WeakMap<AwsClients, EC2Client>();
function ec2Of(clients: AwsClients): EC2Client {
  let client = ec2Clients.get(clients);
  if (!client) {
    const { EC2Client } = load('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
    client = new EC2Client({ region: clients.defaultRegion, credentials: clients.sts().config.credentials });
    ec2Clients.set(clients, client);
  }
  return client;
}

/** The regions enabled in the clients' account (opted in, or not needing it), sorted. */
export async function listEnabledRegions(clients: AwsClients): Promise<string[]> {
  const { DescribeRegionsCommand } = load('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
  try {
    const out = await ec2Of(clients).send(new DescribeRegionsCommand({ AllRegions: false }));
    return [
      ...new Set(
        (out.Regions ?? [])
          .filter((r) => r.OptInStatus !== 'not-opted-in')
          .flatMap((r) => (r.RegionName ? [r.RegionName] : [])),
      ),
    ].sort();
  } catch (error) {
    throw readError('EC2 DescribeRegions', error);
  }
}

/**
 * The regions enabled in the clients' account, listed once per set of clients (per account in a Lambda
 * container: services/aws/accounts.ts caches each account's clients); a failed listing is not kept.
 */
const enabledRegionLists = new WeakMap<AwsClients, Promise<string[]>>();
export function enabledRegionsOf(clients: AwsClients): Promise<string[]> {
  let listing = enabledRegionLists.get(clients);
  if (!listing) {
    const started = listEnabledRegions(clients);
    enabledRegionLists.set(clients, started);
    started.catch(() => {
      if (enabledRegionLists.get(clients) === started) enabledRegionLists.delete(clients);
    });
    listing = started;
  }
  return listing;
}

/**
 * The accounts the hub guards: the configured list, the organization's active accounts for `"organization"`,
 * or only its own; the hub's own account is always one of them. Sorted, the hub's first.
 */
export async function guardedAccounts(
  clients: AwsClients,
  config: Pick<Config, 'accounts'>,
  hubAccount: string,
): Promise<string[]> {
  const listed =
    config.accounts === 'organization'
      ? await listActiveAccounts(clients)
      : config.accounts
        ? [...config.accounts]
        : [];
  return [hubAccount, ...[...new Set(listed)].filter((a) => a !== hubAccount).sort()];
}

/**
 * The regions guarded: the configured ones, else every region enabled in the hub's account. Each account's own
 * are these intersected with the regions enabled in that account (opt-in regions differ per account): the sweep
 * of a target tells a region not enabled there (`not-enabled`, services/aws/sweep.ts) from DescribeRegions in
 * that account.
 */
export async function guardedRegions(
  clients: AwsClients,
  config: Pick<Config, 'regions'>,
): Promise<string[]> {
  return config.regions ? [...config.regions] : listEnabledRegions(clients);
}
