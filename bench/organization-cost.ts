/**
 * What guarding an AWS Organization costs per month: a full stack per account-region against one hub and a spoke
 * per account-region (docs/architecture.md, "Hub and spoke"). Pure: every figure is a price times a count from a
 * template, an event, a sweep or a priced run (bench/projection.ts).
 */
import type { PRICES } from './projection.js';

/** The prices of projection.ts this model uses; run.ts passes PRICES. */
type PriceName = 'stateTransition' | 'lambdaRequest' | 'lambdaGbSecondArm64' | 'dynamoWriteRequestUnit';
export type SharedPrices = Record<keyof Pick<typeof PRICES, PriceName>, number>;

/** us-east-1 list prices the run model does not need (sources: ORG_PRICE_SOURCES), not fetched: check first. */
export const ORG_PRICES = {
  checked:
    'us-east-1 list prices, looked up on 2026-11-30 for this model (not fetched at run time; check before quoting)',
  /** AWS KMS: one customer managed key, per month (first year; see ORG_PRICE_SOURCES for rotation). */
  kmsKeyMonth: 1.0,
  /** CloudWatch: one standard-resolution alarm on one metric, per month. */
  alarmMonth: 0.1,
  /** CloudWatch: one dashboard, per month. */
  dashboardMonth: 3.0,
  /** CloudWatch: one custom metric, per month (first 10,000 metrics), prorated by the hour it has data. */
  customMetricMonth: 0.3,
  /** EventBridge: one event sent to another account's (or another region's) bus, charged to the sender. */
  crossAccountEvent: 1.0 / 1_000_000,
  /** Step Functions Express: one request (a child execution started). */
  expressRequest: 1.0 / 1_000_000,
  /** Step Functions Express: duration, per GB-second ($0.06 per GB-hour, the first 1,000 GB-hours' tier). */
  expressGbSecond: 0.06 / 3600,
} as const;

/** item | price | source, one per line (the report and the JSON list them). */
export const ORG_PRICE_SOURCES =
  `KMS customer managed key | $1.00 per key per month (first year) | https://aws.amazon.com/kms/pricing/
CloudWatch alarm (standard resolution) | $0.10 per alarm metric per month | https://aws.amazon.com/cloudwatch/pricing/
CloudWatch dashboard | $3.00 per dashboard per month | https://aws.amazon.com/cloudwatch/pricing/
CloudWatch custom metric | $0.30 per metric-month, by the hours with data | https://aws.amazon.com/cloudwatch/pricing/
EventBridge event to another bus | $1.00 per million, charged to the sender | https://aws.amazon.com/eventbridge/pricing/
Step Functions Express (child executions) | $1.00 per million; $0.06 per GB-hour | https://aws.amazon.com/step-functions/pricing/
Step Functions Distributed Map | one transition per child started | AWS Step Functions Developer Guide, "Transitions"
Free tiers | not counted | AWS Billing User Guide, consolidated billing: one free tier per organization`
    .split('\n')
    .map((line) => {
      const [item = '', price = '', source = ''] = line.split(' | ');
      return { item, price, source };
    });

export const HOURS_PER_MONTH = 30 * 24; // a 30-day month

/** The resources with a standing monthly price in one stack, and its queues (free while idle). */
export interface StackCounts {
  kmsKeys: number;
  alarms: number;
  dashboards: number;
  /** SQS queues (dead-letter and failure queues): no standing price; the spoke alarm variant alarms on each. */
  queues: number;
}

/**
 * A spoke (per account and region), when its template cannot be counted: EventBridge rules to the hub bus and
 * their dead-letter queues (SSE-SQS: no key of ours, infra/constructs/trigger.ts), no alarm, no dashboard. Rules,
 * idle queues, the remediation role and a service-managed StackSet have no standing charge.
 */
export const SPOKE_COUNTS: StackCounts = { kmsKeys: 0, alarms: 0, dashboards: 0, queues: 3 };

/** The resources of a stack's template that carry a standing monthly price. */
export function countStandingResources(resources: Record<string, { Type: string }>): StackCounts {
  const count = (type: string) => Object.values(resources).filter((r) => r.Type === type).length;
  return {
    kmsKeys: count('AWS::KMS::Key'),
    alarms: count('AWS::CloudWatch::Alarm'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    queues: count('AWS::SQS::Queue'),
  };
}

export interface FixedCost {
  kms: number;
  alarms: number;
  dashboards: number;
  total: number;
}

/** The standing monthly price of one stack. */
export function fixedPerMonth(c: StackCounts): FixedCost {
  const kms = c.kmsKeys * ORG_PRICES.kmsKeyMonth;
  const alarms = c.alarms * ORG_PRICES.alarmMonth;
  const dashboards = c.dashboards * ORG_PRICES.dashboardMonth;
  return { kms, alarms, dashboards, total: kms + alarms + dashboards };
}

/** One workflow run, as section 5 projects it (CostLine): warm total, Lambda invocations, all-cold extra. */
export interface RunCost {
  total: number;
  invocations: number;
  coldExtra: number;
}

/** The sweep's work in one account and region (section 7's sweep counts at the assumed API latencies). */
/**
 * The sweep's work in one account-region at the assumed API latencies: listing the region's trails, each trail
 * assessed (reads and its log group snapshot), the snapshot's write units per trail, INIT when it starts cold.
 */
export interface SweepWork {
  listingMs: number;
  perTrailMs: number;
  perTrailWru: number;
  coldInitMs: number;
}

/** Calls a sweep makes once per region, whatever the number of trails. */
export const PER_SWEEP_OPERATIONS = new Set(['DescribeTrails', 'GetCallerIdentity']);

/** The sweep's work from one measured sweep of `trails` trails in one region (section 7, with the state table). */
export function sweepWorkFrom(
  calls: Record<string, number>,
  trails: number,
  perTrailWru: number,
  latencyMs: (op: string) => number,
  coldInitMs: number,
): SweepWork {
  let listingMs = 0;
  let trailMs = 0;
  for (const [op, n] of Object.entries(calls)) {
    if (PER_SWEEP_OPERATIONS.has(op)) listingMs += n * latencyMs(op);
    else trailMs += n * latencyMs(op);
  }
  return { listingMs, perTrailMs: trails > 0 ? trailMs / trails : 0, perTrailWru, coldInitMs };
}

/** What is being guarded, and how busy it is. */
export interface OrganizationScenario {
  accounts: number;
  regions: number;
  /** Events the rules match per account and region per month (trail, log group and role changes). */
  eventsPerAccountRegion: number;
  /** The share of those events whose run remediates; the others find the trail compliant. */
  remediatedShare: number;
  /** Trails each account owns and homes (the sweep assesses these; shadow and org copies are only listed). */
  trailsPerAccount: number;
  sweepIntervalMinutes: number;
}

/**
 * The organization sizes the report tabulates (x 17 regions: those enabled by default in an account), and the
 * default traffic: ASSUMPTIONS, stated in the report. 100 trail, log group and role changes per account-region and
 * month, one in ten of which breaks something (section 5's remediated run; the others its compliant run); one
 * trail owned and homed per account.
 */
export const ORGANIZATION_SIZES = [10, 100, 1000] as const;
export const DEFAULT_SCENARIO: Omit<OrganizationScenario, 'accounts' | 'sweepIntervalMinutes'> = {
  regions: 17,
  eventsPerAccountRegion: 100,
  remediatedShare: 0.1,
  trailsPerAccount: 1,
};

/** Everything else the model needs, each traceable to a price, a template or a measurement. */
export interface OrganizationModel {
  prices: SharedPrices;
  lambdaMemoryGb: number;
  /** Counted in the synthesized single-account stack. */
  fullStack: StackCounts;
  /** Counted in the synthesized hub template (config.accounts set), or assumed (see OrganizationSources). */
  hub: StackCounts;
  spoke: StackCounts;
  compliant: RunCost;
  remediated: RunCost;
  sweep: SweepWork;
  /** One sts:AssumeRole from a hub function (assumed in-region latency), ms. */
  assumeRoleMs: number;
  /** The hub sweep's transitions per account (a Distributed Map over the accounts: 1 per child execution started). */
  hubTransitionsPerAccount: number;
  /** How many of an account's regions its child execution sweeps at once (an inline Map). */
  hubRegionConcurrency: number;
  /** Billed memory of an Express child execution, GB (64 MB); 0 for Standard children (transitions only). */
  hubChildMemoryGb: number;
  /** Invoke overhead of each of the child's Lambda tasks, ms (added to its duration). */
  hubChildOverheadMs: number;
  /** The hub sweep's parent execution: transitions per sweep on the path that succeeds. */
  hubTransitionsPerSweep: number;
  /** Each ListAccounts page (20 accounts) and DescribeRegions call of the hub's targets step, ms. */
  hubTargetsCallMs: number;
}

/**
 * One side's monthly cost: standing resources (KMS keys, alarms, dashboards), Outcome_* metrics prorated by the
 * hours with data, the workflow runs, spoke events to the hub bus, the scheduled sweeps; `allColdExtra` is what
 * INIT adds if every invocation started cold. A row: both sides, their ratio, and the hub side if each spoke
 * alarmed on each of its dead-letter queues.
 */
export interface CostSide {
  fixed: number;
  metrics: number;
  events: number;
  crossAccount: number;
  sweep: number;
  total: number;
  allColdExtra: number;
}

export interface OrganizationCostRow {
  accounts: number;
  regions: number;
  accountRegions: number;
  eventsPerMonth: number;
  sweepsPerMonth: number;
  fullStacks: CostSide;
  hubAndSpoke: CostSide;
  ratio: number;
  hubAndSpokeWithSpokeAlarms: number;
}

const sum = (side: Omit<CostSide, 'total' | 'allColdExtra'>) =>
  side.fixed + side.metrics + side.events + side.crossAccount + side.sweep;

/** The monthly cost of one scenario, both ways. */
export function organizationCost(s: OrganizationScenario, m: OrganizationModel): OrganizationCostRow {
  const p = m.prices;
  const n = s.accounts * s.regions;
  const eventsPerStack = s.eventsPerAccountRegion;
  const events = n * eventsPerStack;
  const r = s.remediatedShare;
  const mix = (f: (run: RunCost) => number) => (1 - r) * f(m.compliant) + r * f(m.remediated);
  const sweeps = (HOURS_PER_MONTH * 60) / s.sweepIntervalMinutes;
  const gbS = (ms: number) => m.lambdaMemoryGb * (ms / 1000);
  const lambda = (ms: number) => p.lambdaRequest + gbS(ms) * p.lambdaGbSecondArm64;
  const trailsPerRegion = s.trailsPerAccount / s.regions;
  const sweepMs = m.sweep.listingMs + trailsPerRegion * m.sweep.perTrailMs;
  const snapshots = trailsPerRegion * m.sweep.perTrailWru * p.dynamoWriteRequestUnit;
  // Outcome_remediated is the only outcome metric this mix emits (compliant runs end before Audit); each run is
  // taken to fall in an hour of its own, an upper bound on the hours with data.
  const metricHours = (runs: number) => Math.min(HOURS_PER_MONTH, runs) / HOURS_PER_MONTH;
  const sweepCold = gbS(m.sweep.coldInitMs) * p.lambdaGbSecondArm64;

  const fullParts = {
    fixed: n * fixedPerMonth(m.fullStack).total,
    metrics: n * ORG_PRICES.customMetricMonth * metricHours(eventsPerStack * r),
    events: events * mix((run) => run.total),
    crossAccount: 0,
    sweep: n * sweeps * (lambda(sweepMs) + snapshots),
  };
  const fullStacks: CostSide = {
    ...fullParts,
    total: sum(fullParts),
    allColdExtra: events * mix((run) => run.coldExtra) + n * sweeps * sweepCold,
  };

  // The hub: every event's functions assume the account's role once per invocation (an upper bound: Notify and
  // Audit act in the hub); the sweep lists the targets once, then one child per account, which sweeps the
  // account's regions (one function invocation each, each assuming the role: an upper bound, warm containers
  // keep the credentials).
  const assume = gbS(m.assumeRoleMs) * p.lambdaGbSecondArm64;
  const targetsMs = (Math.ceil(s.accounts / 20) + 1) * m.hubTargetsCallMs;
  // An Express child: a request and its duration (rounded up to 100 ms) in its billed memory: its regions in
  // rounds of hubRegionConcurrency.
  const rounds = Math.ceil(s.regions / Math.max(1, m.hubRegionConcurrency));
  const childMs = Math.ceil((rounds * (m.assumeRoleMs + sweepMs + m.hubChildOverheadMs)) / 100) * 100;
  const child =
    m.hubChildMemoryGb > 0
      ? ORG_PRICES.expressRequest + m.hubChildMemoryGb * (childMs / 1000) * ORG_PRICES.expressGbSecond
      : 0;
  const hubParts = {
    fixed: fixedPerMonth(m.hub).total + n * fixedPerMonth(m.spoke).total,
    metrics: ORG_PRICES.customMetricMonth * metricHours(events * r),
    events: events * mix((run) => run.total + run.invocations * assume),
    crossAccount: events * ORG_PRICES.crossAccountEvent,
    sweep:
      sweeps * (lambda(targetsMs) + m.hubTransitionsPerSweep * p.stateTransition) +
      s.accounts * sweeps * (m.hubTransitionsPerAccount * p.stateTransition + child) +
      n * sweeps * (lambda(m.assumeRoleMs + sweepMs) + snapshots),
  };
  const hubAndSpoke: CostSide = {
    ...hubParts,
    total: sum(hubParts),
    allColdExtra: events * mix((run) => run.coldExtra) + (n + 1) * sweeps * sweepCold,
  };
  return {
    accounts: s.accounts,
    regions: s.regions,
    accountRegions: n,
    eventsPerMonth: events,
    sweepsPerMonth: sweeps,
    fullStacks,
    hubAndSpoke,
    ratio: fullStacks.total / hubAndSpoke.total,
    hubAndSpokeWithSpokeAlarms: hubAndSpoke.total + n * m.spoke.queues * ORG_PRICES.alarmMonth,
  };
}

/** Where the model's counts come from, for the report. */
export interface OrganizationSources {
  /** Section 7's sweep case. */
  sweep: string;
  /** How each stack's standing resources were counted (a template, or an assumption and why). */
  fullStack: string;
  hub: string;
  spoke: string;
}

/** Section 8 as saved with a run: the inputs and one row per organization size. */
export interface OrganizationCostResult {
  scenario: Omit<OrganizationScenario, 'accounts'>;
  model: Omit<OrganizationModel, 'prices'>;
  sources: OrganizationSources;
  rows: OrganizationCostRow[];
}

export function organizationCosts(
  scenario: Omit<OrganizationScenario, 'accounts'>,
  model: OrganizationModel,
  sources: OrganizationSources,
  sizes: readonly number[] = ORGANIZATION_SIZES,
): OrganizationCostResult {
  const { prices: _, ...rest } = model;
  return {
    scenario,
    model: rest,
    sources,
    rows: sizes.map((accounts) => organizationCost({ ...scenario, accounts }, model)),
  };
}
