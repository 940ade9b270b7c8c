import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemediationError } from '../../../services/domain/errors.js';
import type { HandlerDeps } from '../../../services/handlers/deps.js';
import { lambdaHandler, logger, type StepObservability } from '../../../services/handlers/lambda.js';
import { outcomeMetrics } from '../../../services/handlers/metrics.js';
import { handlerEnv, lambdaContext } from '../../support/lambda-context.js';
import { remediatedContext } from '../../support/run-contexts.js';

const ENV = handlerEnv();

const context = lambdaContext('trailguard-check');

describe('lambdaHandler', () => {
  beforeEach(() => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('builds deps once per cold start from the environment and logs counts, not the event', async () => {
    const built: HandlerDeps[] = [];
    const handler = lambdaHandler(
      (deps) => {
        built.push(deps);
        return async () => remediatedContext();
      },
      { step: 'Verify' },
    );
    const info = vi.spyOn(logger, 'info');
    const event = { secret: 'do-not-log-me' };

    await handler(event, context);
    const result = await handler(event, context);

    expect(result).toEqual(remediatedContext());
    expect(built).toHaveLength(1);
    expect(built[0]).toMatchObject({
      topicArn: ENV.TRAILGUARD_TOPIC_ARN,
      auditTableName: 'trailguard-audit',
      accountId: '123456789012',
      config: { retentionDays: 90, mode: 'remediate' },
    });
    expect(built[0]?.clients.defaultRegion).toBe('us-east-1');
    expect(info).toHaveBeenCalledTimes(2);
    expect(info).toHaveBeenLastCalledWith('Verify done', {
      step: 'Verify',
      trail: remediatedContext().trailArn,
      execution: remediatedContext().execution.id,
      decision: 'remediate',
      outcome: 'remediated',
      findings: 3,
      actions: 2,
      remainingFindings: 0,
      notified: true,
    });
    expect(JSON.stringify(info.mock.calls)).not.toContain('do-not-log-me');
  });

  it("a hub's deps act in the run's account: its own clients for its account, the remediation role for others", async () => {
    vi.stubEnv('TRAILGUARD_ACCOUNTS', '["444455556666"]');
    vi.stubEnv('TRAILGUARD_REMEDIATION_ROLE_NAME', 'org-guardrail');
    const built: HandlerDeps[] = [];
    const handler = lambdaHandler(
      (deps) => {
        built.push(deps);
        return async () => remediatedContext();
      },
      { step: 'Check' },
    );
    await handler({}, context);
    const deps = built[0];
    expect(deps?.config).toMatchObject({ accounts: ['444455556666'], remediationRoleName: 'org-guardrail' });
    expect(deps?.accounts?.hubAccount).toBe('123456789012');
    expect(await deps?.accounts?.clientsFor('123456789012')).toBe(deps?.clients);
    expect(deps?.accounts?.assumed.size).toBe(0);
  });

  it('a single account without its id in the environment: no account access, no STS call at cold start', async () => {
    vi.stubEnv('TRAILGUARD_ACCOUNT_ID', undefined);
    const built: HandlerDeps[] = [];
    const handler = lambdaHandler(
      (deps) => {
        built.push(deps);
        return async () => remediatedContext();
      },
      { step: 'Check' },
    );
    await handler({}, context);
    expect(built[0]?.accounts).toBeUndefined();
    expect(built[0]?.accountId).toBeUndefined();
  });

  it('lets the step error through unchanged and logs only its name and message', async () => {
    const failure = new RemediationError('CreateRole failed');
    const handler = lambdaHandler(() => async () => Promise.reject(failure), { step: 'RestoreRole' });
    const error = vi.spyOn(logger, 'error');

    await expect(handler({ secret: 'nope' }, context)).rejects.toBe(failure);
    expect(error).toHaveBeenCalledWith('RestoreRole failed', {
      step: 'RestoreRole',
      errorName: 'RemediationError',
      errorMessage: 'CreateRole failed',
    });
    expect(JSON.stringify(error.mock.calls)).not.toContain('nope');
  });

  it('fails clearly on a bad environment', async () => {
    vi.stubEnv('TRAILGUARD_TOPIC_ARN', 'not-an-arn');
    const handler = lambdaHandler(() => async () => ({}), { step: 'Check' });
    await expect(handler({}, context)).rejects.toThrow(/TRAILGUARD_TOPIC_ARN/);
  });

  it('counts outcomes as metrics and flushes them after the invocation', async () => {
    const add = vi.spyOn(Metrics.prototype, 'addMetric');
    const publish = vi.spyOn(Metrics.prototype, 'publishStoredMetrics');
    let seen: StepObservability | undefined;
    const handler = lambdaHandler(
      (_deps, observability) => {
        seen = observability;
        return async () => {
          observability?.countOutcome?.('remediated');
          observability?.recordTimeToRemediate?.(67);
          observability?.countSweepCompleted?.();
          return remediatedContext();
        };
      },
      { step: 'Audit', metrics: outcomeMetrics },
    );

    await handler({}, context);

    expect(seen?.countOutcome).toBeTypeOf('function');
    expect(add).toHaveBeenCalledWith('Outcome_remediated', 'Count', 1);
    expect(add).toHaveBeenCalledWith('TimeToRemediate', 'Seconds', 67);
    expect(add).toHaveBeenCalledWith('SweepCompleted', 'Count', 1);
    expect(publish).toHaveBeenCalled();
  });
});
