/**
 * The sweep function: the schedule, the organization sweep's `targets` / `target` inputs, dependency events and
 * Security Hub findings events (what each does: services/aws/sweep.ts; inputs, names and results:
 * services/domain/sweep.ts). Step Functions starts the executions of the state machine named in the environment.
 */
import { sfnExecutionStarter } from '../aws/execution-starter.js';
import { sweepStep } from '../aws/sweep.js';
import { parseSweepEnv } from './env.js';
import { lambdaHandler, logger } from './lambda.js';
import { outcomeMetrics } from './metrics.js';

/** The Lambda entry: Step Functions starts the executions of the state machine named in the environment. */
export const handler = lambdaHandler(
  (deps, observability = {}) => {
    const { stateMachineArn } = parseSweepEnv(process.env);
    const core = sweepStep(deps, sfnExecutionStarter(deps.clients, stateMachineArn));
    return async (payload) => {
      const result = await core(payload);
      // The heartbeat (alarm SweepHeartbeatAlarm): a scheduled sweep of this region finished without error.
      if (result.kind === 'sweep') observability.countSweepCompleted?.();
      logger.info('Sweep summary', {
        kind: result.kind,
        region: result.region,
        account: result.account,
        // A target's coverage: swept, or a gap (not-enrolled, not-enabled) listed here and in `reason`.
        ...(result.status ? { status: result.status, reason: result.reason } : {}),
        trails: result.trails.length,
        started: result.started,
        duplicates: result.duplicates,
        ...(result.kind === 'targets'
          ? { targets: (result.accounts?.length ?? 0) * (result.regions?.length ?? 0) }
          : {}),
        ...(result.regions ? { regions: result.regions.length } : {}),
        ...(result.change ? { change: result.change } : {}),
      });
      return result;
    };
  },
  { step: 'Sweep', metrics: outcomeMetrics },
);
