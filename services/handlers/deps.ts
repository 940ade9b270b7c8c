/** What every handler needs, injected: clients, settings, a clock. */
import type { AwsClients } from '../aws/clients.js';
import type { Settings } from './env.js';

export interface HandlerDeps extends Settings {
  clients: AwsClients;
  now: () => Date;
}

/** A step's pure-ish core: the workflow task's payload in, its result out. */
export type StepFunction = (payload: unknown) => Promise<unknown>;
