/**
 * The deployed canary's function: middy around `canaryStep` (services/aws/canary-steps.ts, the workflow's steps).
 * It acts through the canary role (assumed once per account and region; scoped to trailguard-canary-* resources
 * and trusted only by this function's role: the hub's own, or in another account the spoke's
 * `trailguard-canary-access`), which is not one of the guardrail's roles: the stack's rules see the
 * canary's breaks like anyone's.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { formatIssues } from '../../policies/config.js';
import { clientsAssumingRole } from '../aws/accounts.js';
import { CANARY_FIXED_METRIC, type CanaryDeps, CanaryEnvSchema, canaryStep } from '../aws/canary-steps.js';
import { type AwsClients, createClients } from '../aws/clients.js';
import { readAccountId } from '../aws/trail-reader.js';
import { partitionOf, roleArn } from '../domain/arns.js';
import { CANARY_MEMBER_ROLE_NAME } from '../domain/canary.js';
import { InvalidInputError } from '../domain/errors.js';
import { logger, METRICS_NAMESPACE, SERVICE_NAME, TIME_TO_REMEDIATE_METRIC } from './lambda.js';

/** Lambda entry: settings, clients and the canary role's credentials once per cold start. */
let deps: Promise<CanaryDeps> | undefined;
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

async function buildDeps(): Promise<CanaryDeps> {
  const parsed = CanaryEnvSchema.safeParse(process.env);
  if (!parsed.success)
    throw new InvalidInputError(`canary environment: ${formatIssues(parsed.error).join('; ')}`);
  const env = parsed.data;
  const clients = createClients({ defaultRegion: process.env.AWS_REGION });
  const account = await readAccountId(clients);
  const assumed = new Map<string, Promise<AwsClients>>();
  return {
    env,
    clients,
    account,
    now: () => new Date(),
    canaryClients: (region, inAccount) => {
      // The hub's canary role in the function's own account; the spoke's canary role in any other.
      const role =
        inAccount === account
          ? env.TRAILGUARD_CANARY_ROLE_ARN
          : roleArn({ partition: partitionOf(region), account: inAccount, name: CANARY_MEMBER_ROLE_NAME });
      const key = `${inAccount}/${region}`;
      let c = assumed.get(key);
      if (!c) {
        c = clientsAssumingRole(clients, role, { sessionName: 'trailguard-canary', region }).then(
          (a) => a.clients,
        );
        assumed.set(key, c);
        c.catch(() => assumed.delete(key));
      }
      return c;
    },
    metrics: {
      fixed: (acct, region, fixed, seconds) => {
        const single = metrics.singleMetric();
        single.addDimensions({ account: acct, region });
        single.addMetric(CANARY_FIXED_METRIC, MetricUnit.Count, fixed ? 1 : 0);
        if (fixed && seconds !== null) {
          const ttr = metrics.singleMetric();
          ttr.addDimensions({ account: acct, region, canary: 'true' });
          ttr.addMetric(TIME_TO_REMEDIATE_METRIC, MetricUnit.Seconds, seconds);
        }
      },
    },
  };
}

export const handler = middy(async (event: unknown) => {
  deps ??= buildDeps();
  deps.catch(() => {
    deps = undefined;
  });
  const step = canaryStep(await deps);
  try {
    return await step(event);
  } catch (error) {
    logger.error('canary step failed', { errorMessage: (error as Error).message.slice(0, 1000) });
    throw error;
  }
});
