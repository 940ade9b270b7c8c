/**
 * What a run costs and how long it takes on AWS: a stated model over the counts the benchmark measures. Every
 * price, latency and scaling below is an input, not a measurement; the report prints them.
 */
import { RETRIES } from '../infra/constructs/workflow.js';
import type { StepName } from '../services/handlers/registry.js';
import type { Counts } from './call-counter.js';

/**
 * us-east-1 list prices from the AWS pricing pages (Step Functions Standard, Lambda arm64 first tier, SNS, DynamoDB
 * on-demand, X-Ray, CloudWatch Logs), looked up on 2026-11-27, not fetched at run time: check before quoting.
 * CloudTrail, IAM and CloudWatch Logs control-plane calls are free; AWS service events on the default bus too.
 */
export const PRICES = {
  stateTransition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecondArm64: 0.0000133334,
  snsPublish: 0.5 / 1_000_000,
  snsEmailDelivery: 2.0 / 100_000,
  dynamoWriteRequestUnit: 0.625 / 1_000_000,
  xrayTraceRecorded: 5.0 / 1_000_000,
  logsIngestionPerGb: 0.5,
} as const;

/**
 * "Lambda allocates CPU power in proportion to the amount of memory configured ... At 1,769 MB, a function has
 * the equivalent of one vCPU" (Lambda Developer Guide, "Configure Lambda function memory"). The model takes one
 * local core as one vCPU and scales CPU time by 1,769 / memory below that; init is CPU-bound (loading code).
 */
export const FULL_VCPU_MB = 1769;
export const cpuScale = (memoryMb: number) => Math.max(1, FULL_VCPU_MB / memoryMb);

/** Assumed latency of one API call from Lambda in the same region, ms (moto on loopback says nothing about AWS). */
export const API_LATENCY_MS: Record<string, number> = {
  cloudtrail: 60,
  logs: 40,
  iam: 100,
  sns: 30,
  dynamodb: 15,
  sts: 30,
  securityhub: 60,
  cloudwatch: 40,
};
const SERVICE_OF: [RegExp, string][] = [
  [/Trail|Logging|^ListTags$/, 'cloudtrail'],
  [/LogGroup|Retention|ListTagsForResource|MetricFilter|SubscriptionFilter|DataProtection/, 'logs'],
  [/Alarm/, 'cloudwatch'],
  [/Publish/, 'sns'],
  [/Item|Table/, 'dynamodb'],
  [/CallerIdentity|AssumeRole/, 'sts'],
  [/Finding/, 'securityhub'],
];
export function apiLatency(op: string): number {
  const service = SERVICE_OF.find(([re]) => re.test(op))?.[1] ?? 'iam';
  return API_LATENCY_MS[service] ?? 100;
}

/** The model's other inputs: ASSUMPTIONS, printed with the results. */
export const ASSUMPTIONS = {
  /** CloudTrail -> EventBridge: best effort, AWS publishes no figure. Shown apart, never in the 5 s target. */
  eventDeliveryS: 30,
  /** EventBridge rule match -> StartExecution. */
  ruleToExecutionMs: 500,
  /** Step Functions Standard: per state transition. */
  perTransitionMs: 50,
  /** Lambda's invoke overhead (warm path; a cold sandbox's own setup is not modelled beyond the measured init). */
  invokeMs: 20,
} as const;

/** RestoreTrail's retries while IAM propagates a role just created (workflow.ts RETRIES.iamPropagation), s. */
export const IAM_PROPAGATION_WAITS_S = Array.from(
  { length: RETRIES.iamPropagation.maxAttempts ?? 3 },
  (_, n) =>
    Math.min(
      RETRIES.iamPropagation.maxDelay?.toSeconds() ?? Number.POSITIVE_INFINITY,
      (RETRIES.iamPropagation.interval?.toSeconds() ?? 1) * (RETRIES.iamPropagation.backoffRate ?? 2) ** n,
    ),
);

export interface RunInput {
  outcome: string;
  /** States entered, in order, and the task states' steps. */
  states: string[];
  tasks: StepName[];
  transitions: number;
  byStep: Partial<Record<StepName, Counts>>;
  commands: Counts;
  auditItemBytes: number;
}

/** AWS time of a step's calls, ms: sequential, an upper bound (Check and Verify read in parallel). */
export const callsMs = (calls: Counts | undefined) =>
  Object.entries(calls ?? {}).reduce((t, [op, n]) => t + n * apiLatency(op), 0);

/**
 * Time from the event reaching EventBridge to Verify's result, every function cold, s: the rule, the
 * transitions up to Verify, and per task its invoke, its measured cold CPU (init + first invocation, which holds
 * the handler's own work) scaled to `memoryMb`, and its AWS calls at the latencies above.
 */
export function timeToFix(run: RunInput, coldCpuMs: Partial<Record<StepName, number>>, memoryMb: number) {
  const upTo = run.states.indexOf('Verify');
  if (upTo < 0) throw new Error(`run ${run.outcome} never reached Verify`);
  const steps = run.tasks.slice(0, run.tasks.indexOf('Verify') + 1);
  const init = steps.reduce((t, s) => t + (coldCpuMs[s] ?? Number.NaN) * cpuScale(memoryMb), 0);
  const calls = steps.reduce((t, s) => t + callsMs(run.byStep[s]), 0);
  const a = ASSUMPTIONS;
  const workflow = a.ruleToExecutionMs + (upTo + 1) * a.perTransitionMs + steps.length * a.invokeMs;
  return {
    steps,
    initS: init / 1000,
    callsS: calls / 1000,
    workflowS: workflow / 1000,
    totalS: (init + calls + workflow) / 1000,
  };
}

/** One run's cost, USD, warm; `coldExtra` is what INIT adds when every function starts cold (billed since 2025-08). */
export function costOfRun(run: RunInput, coldCpuMs: Partial<Record<StepName, number>>, memoryMb: number) {
  const gb = memoryMb / 1024;
  const warmMs = run.tasks.reduce((t, s) => t + callsMs(run.byStep[s]) + ASSUMPTIONS.invokeMs, 0);
  const initMs = [...new Set(run.tasks)].reduce((t, s) => t + (coldCpuMs[s] ?? 0) * cpuScale(memoryMb), 0);
  const lambda = run.tasks.length * PRICES.lambdaRequest + gb * (warmMs / 1000) * PRICES.lambdaGbSecondArm64;
  const stepFunctions = run.transitions * PRICES.stateTransition;
  const sns = (run.commands.Publish ?? 0) * (PRICES.snsPublish + PRICES.snsEmailDelivery);
  const wru = Math.max(1, Math.ceil(run.auditItemBytes / 1024));
  const dynamodb = (run.commands.PutItem ?? 0) * wru * PRICES.dynamoWriteRequestUnit;
  const observability =
    PRICES.xrayTraceRecorded + ((run.transitions * 1024) / 1024 ** 3) * PRICES.logsIngestionPerGb;
  return {
    outcome: run.outcome,
    invocations: run.tasks.length,
    stepFunctions,
    lambda,
    sns,
    dynamodb,
    observability,
    total: stepFunctions + lambda + sns + dynamodb + observability,
    coldExtra: gb * (initMs / 1000) * PRICES.lambdaGbSecondArm64,
  };
}
