/** What every handler needs, injected: clients, settings, a clock. */
import { type FunctionName, isMemberFunction, MEMBER_ROLE_OF } from '../../policies/iam.js';
import type { AccountAccess } from '../aws/accounts.js';
import type { AwsClients } from '../aws/clients.js';
import type { Settings } from './env.js';

export interface HandlerDeps extends Settings {
  /** The hub's own clients: its account, its topic and tables. */
  clients: AwsClients;
  now: () => Date;
  /**
   * Acting in a guarded account (services/aws/accounts.ts): the hub's clients for its own account, the
   * account's remediation role for any other. Absent: every call uses `clients` (a single account).
   */
  accounts?: AccountAccess;
}

/**
 * The clients that act in `account` for function `fn`: through `deps.accounts` when the hub guards other
 * accounts, as `fn`'s own member role (policies/iam.ts MEMBER_ROLE_OF); the read-only role when `fn` is not
 * named.
 */
export function clientsIn(
  deps: Pick<HandlerDeps, 'clients' | 'accounts'>,
  account: string | undefined,
  fn?: FunctionName,
) {
  const role = fn && isMemberFunction(fn) ? MEMBER_ROLE_OF[fn] : 'read';
  return deps.accounts && account ? deps.accounts.clientsFor(account, role) : Promise.resolve(deps.clients);
}

/** A step's pure-ish core: the workflow task's payload in, its result out. */
export type StepFunction = (payload: unknown) => Promise<unknown>;
