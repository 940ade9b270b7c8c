/** Everything one benchmark run measured, as saved to .bench-tmp and rendered into the report. */
import type { CallComparison } from './analysis.js';
import type { BundleName, CdkEsbuildOptions, InitSample } from './bundles.js';
import type { Counts } from './call-counter.js';
import type { CliResult } from './cli.js';
import type { DeliveryMonitoringResult } from './delivery-monitoring.js';
import type { SharedRoleGrowth } from './latency.js';
import type { MachineFacts } from './machine.js';
import type { OrganizationCostResult } from './organization-cost.js';
import type { OrganizationSweepResult } from './organization-sweep.js';
import type { CostLine } from './projection.js';

export interface CallRow extends CallComparison {
  id: string;
  title: string;
  findings: string[];
  outcome: string;
  attempts: number;
  actions: string[];
  commands: Counts;
  byStep: Record<string, Counts>;
  transitions: number;
  ms: number;
}

export interface OutcomeRow {
  outcome: string;
  title: string;
  transitions: number;
  states: string[];
  invocations: number;
  calls: number;
  auditItemBytes: number;
  cost: number;
}

export interface BundleRow {
  name: BundleName;
  bytes: number;
  largestInputs: { path: string; bytes: number }[];
  zodLocaleBytes: number;
  externalImports: string[];
  lazySdk: string[];
  /** Init of a module importing only this bundle's static SDK imports (wall and CPU, medians). */
  sdkInitMs: number;
  sdkInitCpuMs: number;
  initMs: number;
  importMs: number;
  samples: InitSample[];
  /** init / baseline init */
  initRatio: number;
  /** CPU time to module evaluated (median) and its ratio to the baseline's */
  initCpuMs: number;
  initCpuRatio: number;
}

export interface LatencySummary {
  runs: number;
  p50: number;
  p95: number;
  max: number;
  min: number;
  callsPerRun: number[];
  nodeCpuMs: number;
  motoCpuMs: number;
}

export interface ThroughputSummary {
  count: number;
  limit: number;
  wallMs: number;
  eventsPerSecond: number;
  outcomes: Record<string, number>;
  verifiedCompliant: number;
  notCompliant: Record<string, string[]>;
  emulatorCalls: number;
  emulatorAttempts: number;
  callsPerEvent: number;
  socketWarnings: number;
  seedMs: number;
  verifyMs: number;
  nodeCpuMsPerEvent: number;
  motoCpuMsPerEvent: number;
  /** Every batch (counts are the first batch's; times and CPU the median over the batches). */
  batches: {
    wallMs: number;
    eventsPerSecond: number;
    emulatorCalls: number;
    verifiedCompliant: number;
    nodeCpuMsPerEvent: number;
    motoCpuMsPerEvent: number;
  }[];
}

export interface TargetRow {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
  why?: string;
}

export interface Results {
  mode: 'full' | 'smoke';
  machine: MachineFacts;
  durationS: number;
  calls: CallRow[];
  outcomes: OutcomeRow[];
  esbuild: CdkEsbuildOptions;
  initRounds: number;
  bundles: BundleRow[];
  /** Median over the functions of the init of their static SDK imports alone (wall and CPU). */
  sdkOnlyInitMs: number;
  sdkOnlyInitCpuMs: number;
  latency: LatencySummary;
  localStepMs: Record<string, number>;
  throughput: ThroughputSummary;
  sharedRole: SharedRoleGrowth;
  /** Section 6 (absent from runs saved before it existed). */
  cli?: CliResult;
  /** Section 7 (absent from runs saved before it existed). */
  deliveryMonitoring?: DeliveryMonitoringResult;
  costs: CostLine[];
  /** Section 8: the monthly cost of an organization, full stacks against hub and spoke (absent before it existed). */
  organization?: OrganizationCostResult;
  /** Section 9: the hub's sweep over an organization on the emulator (absent before it existed). */
  organizationSweep?: OrganizationSweepResult;
  targets: TargetRow[];
  /** Problems that make the run invalid (a scenario ended wrong, a trail left non-compliant). */
  errors: string[];
}
