import { describe, expect, it } from 'vitest';
import {
  countStandingResources,
  DEFAULT_SCENARIO,
  fixedPerMonth,
  HOURS_PER_MONTH,
  ORG_PRICE_SOURCES,
  ORG_PRICES,
  type OrganizationModel,
  type OrganizationScenario,
  organizationCost,
  organizationCosts,
  SPOKE_COUNTS,
  sweepWorkFrom,
} from '../../../bench/organization-cost.js';

/** Round prices, so every expected figure below can be worked out by hand. */
const model: OrganizationModel = {
  prices: {
    stateTransition: 0.001,
    lambdaRequest: 0.0001,
    lambdaGbSecondArm64: 0.01,
    dynamoWriteRequestUnit: 0.001,
  },
  lambdaMemoryGb: 0.5,
  fullStack: { kmsKeys: 1, alarms: 8, dashboards: 1, queues: 5 },
  hub: { kmsKeys: 1, alarms: 8, dashboards: 1, queues: 5 },
  spoke: SPOKE_COUNTS,
  compliant: { total: 0.01, invocations: 1, coldExtra: 0.001 },
  remediated: { total: 0.1, invocations: 8, coldExtra: 0.01 },
  sweep: { listingMs: 100, perTrailMs: 900, perTrailWru: 2, coldInitMs: 2000 },
  assumeRoleMs: 200,
  // Standard children: 1 transition to start each + 1 for its state; no Express charges.
  hubTransitionsPerAccount: 2,
  hubRegionConcurrency: 5,
  hubChildMemoryGb: 0,
  hubChildOverheadMs: 20,
  hubTransitionsPerSweep: 3,
  hubTargetsCallMs: 100,
};

/** 2 accounts x 5 regions = 10 account-regions, one trail per region, 100 events each, hourly sweep. */
const scenario: OrganizationScenario = {
  accounts: 2,
  regions: 5,
  eventsPerAccountRegion: 100,
  remediatedShare: 0.1,
  trailsPerAccount: 5,
  sweepIntervalMinutes: 60,
};

describe('the list prices', () => {
  it('are the documented ones, each with a source', () => {
    expect(ORG_PRICES).toMatchObject({
      kmsKeyMonth: 1,
      alarmMonth: 0.1,
      dashboardMonth: 3,
      customMetricMonth: 0.3,
      crossAccountEvent: 0.000001,
      expressRequest: 0.000001,
    });
    expect(ORG_PRICES.expressGbSecond * 3600).toBeCloseTo(0.06, 12);
    expect(ORG_PRICES.checked).toMatch(/\d{4}-\d{2}-\d{2}/);
    for (const item of [
      'KMS',
      'alarm',
      'dashboard',
      'custom metric',
      'EventBridge',
      'Express',
      'Distributed Map',
    ]) {
      expect(ORG_PRICE_SOURCES.some((p) => p.item.includes(item) && /https?:\/\/|Guide/.test(p.source))).toBe(
        true,
      );
    }
  });
});

describe('the fixed part', () => {
  it('is keys x $1 + alarms x $0.10 + dashboards x $3 per stack and month', () => {
    const f = fixedPerMonth({ kmsKeys: 1, alarms: 8, dashboards: 1, queues: 5 });
    expect(f.kms).toBe(1);
    expect(f.alarms).toBeCloseTo(0.8, 10);
    expect(f.dashboards).toBe(3);
    expect(f.total).toBeCloseTo(4.8, 10);
    expect(fixedPerMonth(SPOKE_COUNTS).total).toBe(0);
  });

  it('counts the standing resources of a template', () => {
    expect(
      countStandingResources({
        Key: { Type: 'AWS::KMS::Key' },
        A1: { Type: 'AWS::CloudWatch::Alarm' },
        A2: { Type: 'AWS::CloudWatch::Alarm' },
        D: { Type: 'AWS::CloudWatch::Dashboard' },
        Q: { Type: 'AWS::SQS::Queue' },
        R: { Type: 'AWS::Events::Rule' },
      }),
    ).toEqual({ kmsKeys: 1, alarms: 2, dashboards: 1, queues: 1 });
  });
});

describe('the sweep work', () => {
  it('splits the listing (once per region) from the per-trail reads and snapshot', () => {
    const latency = (op: string) => ({ DescribeTrails: 60, GetTrail: 50, PutItem: 10 })[op] ?? 0;
    const work = sweepWorkFrom({ DescribeTrails: 1, GetTrail: 4, PutItem: 4 }, 4, 1, latency, 500);
    expect(work).toEqual({ listingMs: 60, perTrailMs: 60, perTrailWru: 1, coldInitMs: 500 });
  });
});

describe('organizationCost, worked by hand', () => {
  const row = organizationCost(scenario, model);

  it('counts account-regions, events and sweeps', () => {
    expect(row.accountRegions).toBe(10);
    expect(row.eventsPerMonth).toBe(1000);
    expect(row.sweepsPerMonth).toBe(HOURS_PER_MONTH);
  });

  it('full stacks: 10 x the fixed part, the runs, 10 sweep functions, 10 metrics', () => {
    const f = row.fullStacks;
    expect(f.fixed).toBeCloseTo(48, 10);
    // Outcome_remediated: 10 runs a month per stack, 10 of 720 hours, $0.30 each.
    expect(f.metrics).toBeCloseTo((10 * 0.3 * 10) / 720, 10);
    // 1,000 runs: 90% at $0.01, 10% at $0.10.
    expect(f.events).toBeCloseTo(19, 10);
    expect(f.crossAccount).toBe(0);
    // Each sweep: 1 request ($0.0001) + 1 s x 0.5 GB x $0.01 + 2 WRU x $0.001 = $0.0071; 10 x 720 of them.
    expect(f.sweep).toBeCloseTo(51.12, 10);
    expect(f.total).toBeCloseTo(48 + 30 / 720 + 19 + 51.12, 10);
    // All cold: 1,000 runs x $0.0019 + 7,200 sweeps x 2 s x 0.5 GB x $0.01.
    expect(f.allColdExtra).toBeCloseTo(1.9 + 72, 10);
  });

  it('hub and spoke: one fixed part, the same runs plus AssumeRole, cross-account events, the Map sweep', () => {
    const h = row.hubAndSpoke;
    expect(h.fixed).toBeCloseTo(4.8, 10);
    expect(h.metrics).toBeCloseTo((0.3 * 100) / 720, 10);
    // AssumeRole: 0.2 s x 0.5 GB x $0.01 = $0.001 per invocation (1 compliant, 8 remediated).
    expect(h.events).toBeCloseTo(1000 * (0.9 * 0.011 + 0.1 * 0.108), 10);
    expect(h.crossAccount).toBeCloseTo(0.001, 12);
    // Per sweep: the targets step (2 calls x 100 ms: $0.0001 + $0.001) + 3 transitions = $0.0041.
    // Per account-region: $0.0001 + 1.2 s x 0.5 GB x $0.01 + 2 WRU = $0.0081; per account: 2 transitions.
    expect(h.sweep).toBeCloseTo(720 * 0.0041 + 7200 * 0.0081 + 1440 * 0.002, 10);
    expect(h.total).toBeCloseTo(4.8 + 30 / 720 + 20.7 + 0.001 + 64.152, 10);
    expect(h.allColdExtra).toBeCloseTo(1.9 + 11 * 720 * 0.01, 10);
  });

  it('the ratio and the variant with an alarm on each spoke queue', () => {
    expect(row.ratio).toBeCloseTo(row.fullStacks.total / row.hubAndSpoke.total, 12);
    expect(row.hubAndSpokeWithSpokeAlarms).toBeCloseTo(row.hubAndSpoke.total + 10 * 3 * 0.1, 10);
  });

  it("Express children, one per account: a request and the duration of its regions' sweeps, rounded up to 100 ms, in their memory", () => {
    const express = (hubRegionConcurrency: number) =>
      organizationCost(scenario, {
        ...model,
        hubTransitionsPerAccount: 1,
        hubRegionConcurrency,
        hubChildMemoryGb: 0.0625,
      }).hubAndSpoke.sweep;
    // All 5 regions at once: 200 + 1,000 + 20 ms, 1.3 s billed, x 0.0625 GB x $0.06 / 3,600 per GB-s, + $1 per million.
    const child = (s: number) => 0.000001 + s * 0.0625 * (0.06 / 3600);
    expect(express(5)).toBeCloseTo(720 * 0.0041 + 7200 * 0.0081 + 1440 * (0.001 + child(1.3)), 10);
    // 2 at a time: 3 rounds of 1,220 ms, 3.7 s billed.
    expect(express(2)).toBeCloseTo(720 * 0.0041 + 7200 * 0.0081 + 1440 * (0.001 + child(3.7)), 10);
  });
});

describe('organizationCost, how it scales', () => {
  const at = (accounts: number) => organizationCost({ ...scenario, accounts, regions: 17 }, model);

  it('the full stacks pay the fixed part per account-region; the hub once', () => {
    for (const accounts of [10, 100, 1000]) {
      const row = at(accounts);
      expect(row.fullStacks.fixed).toBeCloseTo(accounts * 17 * 4.8, 6);
      expect(row.hubAndSpoke.fixed).toBeCloseTo(4.8, 10);
    }
  });

  it('runs differ only by the AssumeRole time; cross-account events are $1 per million', () => {
    const row = at(100);
    const assume = 0.5 * 0.2 * 0.01;
    expect(row.hubAndSpoke.events - row.fullStacks.events).toBeCloseTo(
      row.eventsPerMonth * (0.9 * 1 + 0.1 * 8) * assume,
      6,
    );
    expect(row.hubAndSpoke.crossAccount).toBeCloseTo(row.eventsPerMonth / 1e6, 12);
  });

  it('the hub metric is capped at the hours of a month', () => {
    expect(at(1000).hubAndSpoke.metrics).toBeCloseTo(0.3, 12);
  });

  it('organizationCosts tabulates the sizes and keeps the inputs without prices', () => {
    const result = organizationCosts(
      { ...DEFAULT_SCENARIO, sweepIntervalMinutes: 60 },
      model,
      { sweep: 'a test sweep', fullStack: 'f', hub: 'h', spoke: 's' },
      [10, 1000],
    );
    expect(result.rows.map((r) => r.accountRegions)).toEqual([170, 17_000]);
    expect(result.model).not.toHaveProperty('prices');
    expect(result.sources.sweep).toBe('a test sweep');
    expect(result.rows[1]?.ratio).toBeGreaterThan(result.rows[0]?.ratio ?? Number.POSITIVE_INFINITY);
  });
});
