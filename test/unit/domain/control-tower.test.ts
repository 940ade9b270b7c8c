/**
 * Control Tower's trails and log groups (services/domain/control-tower.ts), the deletion-protection advice, and
 * what Check decides about them (services/handlers/check.ts decide). Pure: no emulator.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../policies/config.js';
import { assess } from '../../../services/domain/assess.js';
import {
  controlTowerReason,
  isControlTowerLogGroup,
  isControlTowerTrail,
  refuseControlTowerWrite,
} from '../../../services/domain/control-tower.js';
import { ControlTowerManagedError } from '../../../services/domain/errors.js';
import { buildNotification } from '../../../services/domain/notification.js';
import { RunContextSchema } from '../../../services/domain/run-context.js';
import type { TrailState } from '../../../services/domain/trail-state.js';
import { decide } from '../../../services/handlers/check.js';
import { ACCOUNT, brokenState, EXECUTION, fixedState, REGION } from '../../support/run-contexts.js';

const CT_GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:aws-controltower/CloudTrailLogs:*`;

function named(state: TrailState, name: string): TrailState {
  return {
    ...state,
    trail: { ...state.trail, name, trailArn: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}` },
  };
}

describe("Control Tower's names", () => {
  it('trails aws-controltower-* (name or ARN), log groups aws-controltower/* (name or ARN)', () => {
    expect(isControlTowerTrail('aws-controltower-BaselineCloudTrail')).toBe(true);
    expect(
      isControlTowerTrail(
        `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/aws-controltower-BaselineCloudTrail`,
      ),
    ).toBe(true);
    expect(isControlTowerTrail('my-aws-controltower-copy')).toBe(false);
    expect(isControlTowerLogGroup('aws-controltower/CloudTrailLogs')).toBe(true);
    expect(isControlTowerLogGroup(CT_GROUP)).toBe(true);
    expect(isControlTowerLogGroup('CloudTrail/aws-controltower')).toBe(false);
  });

  it('refuseControlTowerWrite throws before a write to either, and lets anything else through', () => {
    expect(() =>
      refuseControlTowerWrite({ trail: 'aws-controltower-BaselineCloudTrail' }, 'UpdateTrail'),
    ).toThrow(ControlTowerManagedError);
    expect(() =>
      refuseControlTowerWrite({ logGroup: 'aws-controltower/CloudTrailLogs' }, 'CreateLogGroup'),
    ).toThrow(/managed by AWS Control Tower/);
    expect(() =>
      refuseControlTowerWrite({ trail: 'main', logGroup: 'CloudTrail/main' }, 'UpdateTrail'),
    ).not.toThrow();
  });
});

describe('assess and decide', () => {
  const config = parseConfig({});

  it('a broken Control Tower trail: notified, managed by Control Tower, never remediate (even in remediate mode)', () => {
    const assessment = assess(named(brokenState(), 'aws-controltower-BaselineCloudTrail'), config);
    expect(assessment.verdict).toBe('non-compliant');
    expect(assessment.controlTower).toContain('managed by Control Tower');
    const decision = decide(assessment, config);
    expect(decision).toMatchObject({ decision: 'notify', outcome: 'notified' });
    expect(decision.reason).toContain('managed by Control Tower');
  });

  it("a trail delivering to Control Tower's log group is Control Tower's too", () => {
    const state = brokenState();
    const assessment = assess(
      { ...state, trail: { ...state.trail, cloudWatchLogsLogGroupArn: CT_GROUP } },
      config,
    );
    expect(controlTowerReason({ name: 'x', cloudWatchLogsLogGroupArn: CT_GROUP })).toContain(
      'aws-controltower/CloudTrailLogs',
    );
    expect(decide(assessment, config).decision).toBe('notify');
  });

  it('the email of a Control Tower run gives its repair path', () => {
    const state = named(brokenState(), 'aws-controltower-BaselineCloudTrail');
    const assessment = assess(state, config);
    const { reason } = decide(assessment, config);
    const ctx = RunContextSchema.parse({
      execution: EXECUTION,
      trigger: { kind: 'sweep' },
      trailRef: { id: state.trail.trailArn, region: REGION },
      decision: 'notify',
      reason,
      outcome: 'notified',
      before: { state, assessment },
    });
    const body = buildNotification(ctx).body;
    expect(body).toContain('What to do');
    expect(body).toContain('Repair');
    expect(body).toContain('re-register its OU');
  });

  it('an unprotected log group is advice (LOG_GROUP_UNPROTECTED), not a finding: the trail stays compliant', () => {
    const assessment = assess(fixedState(), config);
    expect(assessment.verdict).toBe('compliant');
    expect(assessment.findings).toEqual([]);
    expect(assessment.advice?.map((a) => a.code)).toEqual(['LOG_GROUP_UNPROTECTED']);
    expect(decide(assessment, config).decision).toBe('compliant');
    const fixed = fixedState();
    const protectedState: TrailState = {
      ...fixed,
      logGroup: { name: 'CloudTrail/management-events', exists: true, deletionProtectionEnabled: true },
    };
    expect(assess(protectedState, config).advice).toBeUndefined();
  });

  it('protectExistingLogGroups: a compliant trail with an unprotected group goes to RestoreLogGroup (remediate mode only)', () => {
    const on = parseConfig({ protectExistingLogGroups: true });
    const assessment = assess(fixedState(), on);
    expect(decide(assessment, on)).toMatchObject({ decision: 'remediate' });
    const notifyOnly = parseConfig({ protectExistingLogGroups: true, mode: 'notify-only' });
    expect(decide(assessment, notifyOnly).decision).toBe('compliant');
  });
});
