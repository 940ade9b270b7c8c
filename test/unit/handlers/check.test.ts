import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../policies/config.js';
import { type Assessment, assess } from '../../../services/domain/assess.js';
import { finding } from '../../../services/domain/findings.js';
import { decide } from '../../../services/handlers/check.js';
import { brokenState, fixedState } from '../../support/run-contexts.js';

const config = parseConfig({});

function withFindings(assessment: Assessment, codes: Parameters<typeof finding>[0][]): Assessment {
  return { ...assessment, verdict: 'non-compliant', findings: codes.map((c) => finding(c, c)) };
}

describe('decide', () => {
  it('remediates a non-compliant trail in remediate mode', () => {
    expect(decide(assess(brokenState(), config), config)).toEqual({
      decision: 'remediate',
      reason: 'findings to remediate: LOG_GROUP_ARN_MISSING, ROLE_ARN_MISSING, LOGGING_STOPPED',
    });
  });

  it('only notifies in notify-only mode', () => {
    expect(decide(assess(brokenState(), config), { mode: 'notify-only' })).toMatchObject({
      decision: 'notify',
      outcome: 'notified',
    });
  });

  it('only notifies when nothing found is remediable', () => {
    const base = assess(fixedState(), config);
    expect(decide(withFindings(base, ['DELIVERY_ERROR']), config)).toEqual({
      decision: 'notify',
      outcome: 'notified',
      reason: 'only findings trailguard cannot fix by itself: DELIVERY_ERROR',
    });
    expect(decide(withFindings(base, ['DELIVERY_ERROR', 'LOGGING_STOPPED']), config).decision).toBe(
      'remediate',
    );
  });

  it('ends quietly for a compliant trail and skips exempt or foreign ones', () => {
    expect(decide(assess(fixedState(), config), config)).toMatchObject({
      decision: 'compliant',
      outcome: 'compliant',
    });
    const exempt = assess({ ...brokenState(), tags: { 'trailguard:exempt': 'true' } }, config);
    expect(decide(exempt, config)).toEqual({
      decision: 'skip',
      outcome: 'skipped',
      reason: 'tagged trailguard:exempt=true',
    });
    const shadow = assess({ ...brokenState(), region: 'eu-west-1' }, config);
    expect(decide(shadow, config)).toMatchObject({ decision: 'skip', outcome: 'skipped' });
    expect(decide(shadow, config).reason).toContain('shadow copy');
  });
});
