/** What every handler needs, injected: clients, settings, a clock. */
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

/** The clients that act in `account`: through `deps.accounts` when the hub guards other accounts. */
export function clientsIn(deps: Pick<HandlerDeps, 'clients' | 'accounts'>, account: string | undefined) {
  return deps.accounts && account ? deps.accounts.clientsFor(account) : Promise.resolve(deps.clients);
}

/** A step's pure-ish core: the workflow task's payload in, its result out. */
export type StepFunction = (payload: unknown) => Promise<unknown>;
