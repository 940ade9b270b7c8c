/**
 * RestoreLogGroup: makes sure the trail's target log group exists and is whole.
 * - The group itself: created when missing (services/aws/log-group-writer.ts), with deletion protection
 *   (config.logGroupDeletionProtection); an existing unprotected group is protected only with
 *   config.protectExistingLogGroups.
 * - When this step created it (or an earlier attempt of it that was retried): what the sweep's last snapshot of the trail's log group recorded is put back
 *   (retention, KMS key, tags, data protection policy, metric and subscription filters;
 *   services/aws/log-group-snapshot.ts); each item restored or not, with the reason, goes to the run's
 *   `restoration` (email and audit record).
 * - config.cisMonitoring, multi-region trail: the CIS metric filters and alarms on the group
 *   (services/aws/monitoring.ts), created or repaired.
 * Every log group call is made in the run's account (its remediation role when it is not the hub's); the
 * snapshot is read from the hub's state table.
 */
import './zod-jitless.js';

import { restoreLogGroupSnapshot } from '../aws/log-group-snapshot.js';
import { ensureLogGroup, isTrailguardLogGroup } from '../aws/log-group-writer.js';
import { ensureCisMonitoring } from '../aws/monitoring.js';
import { getLogGroupSnapshot } from '../aws/state-store.js';
import { isCanaryTrail } from '../domain/canary.js';
import { cisAlarmTopic } from '../domain/cis-monitoring.js';
import { logGroupKeyFor } from '../domain/log-group-key.js';
import { restoreNeeds } from '../domain/plan.js';
import type { Action, Restoration } from '../domain/run-context.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { cisAlarmTopicArn } from './env.js';
import { output, remediationContext } from './io.js';
import { lambdaHandler } from './lambda.js';

export function restoreLogGroupStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = remediationContext(payload, 'RestoreLogGroup');
    const { state, assessment } = ctx.before;
    const needs = restoreNeeds(state, assessment, deps.config);
    if (!needs.logGroup && !needs.monitoring) return output(ctx);
    const region = state.trail.homeRegion;
    // The log group lives in the run's account; the snapshot of it is in the hub's state table.
    const clients = await clientsIn(deps, ctx.account, 'RestoreLogGroup');
    const group = {
      region,
      account: state.accountId,
      partition: state.partition,
      logGroupName: assessment.target.logGroupName,
    };
    // selftest's and the canary's trails (trailguard-canary-*) delete their log groups on purpose (a break, then the
    // cleanup): their groups never get deletion protection, which would make both fail.
    const canary = isCanaryTrail(state.trail.trailArn || state.trail.name);
    // Only CIS monitoring to repair: the group itself read right in Check, and is not read again.
    const writes = needs.logGroup
      ? await ensureLogGroup(clients, {
          region,
          account: state.accountId,
          partition: state.partition,
          name: group.logGroupName,
          retentionDays: deps.config.retentionDays,
          // The key of the trail's own account and region (KMS keys are regional).
          kmsKeyArn: logGroupKeyFor(deps.config, state.accountId, region),
          deletionProtection: deps.config.logGroupDeletionProtection && !canary,
          protectExisting: deps.config.protectExistingLogGroups && !canary,
        })
      : [];
    const actions: Action[] = writes.map((w) => ({ step: 'RestoreLogGroup' as const, ...w }));

    let restoration: Restoration | undefined;
    // The snapshot goes back onto a group trailguard created: in this attempt, or in an earlier attempt of this
    // step that Step Functions retried after a transient failure (then this attempt finds the group whole and
    // writes nothing). So when Check did not see the group and this attempt wrote nothing, a group carrying
    // trailguard's tag gets the snapshot too. Restoring is idempotent: what is already there is not written again.
    const seenAtCheck = state.logGroup?.exists === true && state.logGroup.name === group.logGroupName;
    const created =
      writes.some((w) => w.api === 'CreateLogGroup') ||
      (needs.logGroup &&
        !seenAtCheck &&
        writes.length === 0 &&
        (await isTrailguardLogGroup(clients, { ...group, name: group.logGroupName })));
    if (created && deps.stateTableName && state.trail.trailArn) {
      const snapshot = await getLogGroupSnapshot(deps.clients, deps.stateTableName, state.trail.trailArn);
      if (snapshot) {
        const restored = await restoreLogGroupSnapshot(clients, group, snapshot);
        actions.push(...restored.writes.map((w) => ({ step: 'RestoreLogGroup' as const, ...w })));
        restoration = {
          snapshotTakenAt: snapshot.takenAt,
          snapshotLogGroupName: snapshot.logGroupName,
          restored: restored.restored,
          notRestored: restored.notRestored,
        };
      }
    }

    if (deps.config.cisMonitoring && state.trail.isMultiRegionTrail) {
      const cis = await ensureCisMonitoring(clients, {
        region,
        logGroupName: group.logGroupName,
        // The topic only in the alarm's own account and region; elsewhere no action (alarm-events.ts).
        alarmTopicArn: cisAlarmTopic(cisAlarmTopicArn(deps), { account: state.accountId, region }),
      });
      actions.push(...cis.map((w) => ({ step: 'RestoreLogGroup' as const, ...w })));
    }

    return output({
      ...ctx,
      actions: [...ctx.actions, ...actions],
      ...(restoration ? { restoration } : {}),
    });
  };
}

export const handler = lambdaHandler(restoreLogGroupStep, { step: 'RestoreLogGroup' });
