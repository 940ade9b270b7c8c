/**
 * The account the caller's credentials act in (STS GetCallerIdentity). Its own module so that the Lambda entry
 * (services/handlers/lambda.ts), which needs it only where the hub's account id is not configured, does not load
 * the trail reader's CloudTrail, CloudWatch Logs and IAM clients into every function: STS itself is loaded on
 * first use, not with this module.
 */
import { createRequire } from 'node:module';
import { AwsReadError, awsErrorName, isTransient, TransientAwsError } from '../domain/errors.js';
import type { AwsClients } from './clients.js';

const load = createRequire(import.meta.url);

export async function readAccountId(clients: Pick<AwsClients, 'sts'>): Promise<string> {
  const { GetCallerIdentityCommand } = load('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  let account: string | undefined;
  try {
    account = (await clients.sts().send(new GetCallerIdentityCommand({}))).Account;
  } catch (error) {
    const message = `GetCallerIdentity failed: ${(error as Error).message ?? awsErrorName(error)}`;
    if (isTransient(error)) throw new TransientAwsError(message, { cause: error });
    throw new AwsReadError(message, { cause: error });
  }
  if (!account) throw new AwsReadError('GetCallerIdentity returned no account');
  return account;
}
