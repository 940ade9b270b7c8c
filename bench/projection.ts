/**
 * Section 5: what one event costs and how long it takes on AWS, from the measured counts and a stated model.
 * Every price and latency below is an input, not a measurement; the report prints them next to the results.
 */
import { RETRIES } from '../infra/constructs/workflow.js';
import type { StepName } from '../services/handlers/registry.js';
import type { Counts } from './call-counter.js';

/**
 * us-east-1 list prices, looked up for this benchmark on the AWS pricing pages (not fetched at run time; check
 * before quoting): Step Functions Standard, Lambda arm64 (first tier), SNS standard topics and email delivery,
 * DynamoDB on-demand (after the November 2024 reduction). CloudTrail, IAM and CloudWatch Logs control-plane API
 * calls are free; EventBridge does not charge for AWS service events on the default bus.
 */
export const PRICES = {
  checked:
    'us-east-1 list prices from the AWS pricing pages, looked up on 2026-11-27 for this benchmark (not fetched at run time; check before quoting)',
  stateTransition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecondArm64: 0.0000133334,
  snsPublish: 0.5 / 1_000_000,
  snsEmailDelivery: 2.0 / 100_000,
  dynamoWriteRequestUnit: 0.625 / 1_000_000,
  /** Estimates for what the brief does not list, so the total is not understated. */
  xrayTraceRecorded: 5.0 / 1_000_000,
  logsIngestionPerGb: 0.5,
} as const;

/** The functions' configuration (infra/constructs/functions.ts): 256 MB, arm64. */
export const LAMBDA_MEMORY_GB = 256 / 1024;
/** Lambda allocates CPU in proportion to memory; 1,769 MB is one full vCPU. */
export const FULL_VCPU_MB = 1769;
/** How much slower CPU-bound work is at 256 MB than on one full core (the local measurement). */
export const CPU_SCALE = FULL_VCPU_MB / 256;

/**
 * Assumed latency of one API call from Lambda in the same region (ms). Not measured here: moto on loopback answers
 * in a few ms. IAM is a global service served from us-east-1 and is the slowest; writes are slower than reads.
 */
export const API_LATENCY_MS: Record<string, number> = {
  cloudtrail: 60,
  logs: 40,
  iam: 100,
  sns: 30,
  dynamodb: 15,
  sts: 30,
};

const SERVICE_OF: Record<string, string> = {
  GetTrail: 'cloudtrail',
  GetTrailStatus: 'cloudtrail',
  ListTags: 'cloudtrail',
  UpdateTrail: 'cloudtrail',
  StartLogging: 'cloudtrail',
  DescribeTrails: 'cloudtrail',
  DescribeLogGroups: 'logs',
  CreateLogGroup: 'logs',
  PutRetentionPolicy: 'logs',
  ListTagsForResource: 'logs',
  GetRole: 'iam',
  ListRolePolicies: 'iam',
  ListAttachedRolePolicies: 'iam',
  GetRolePolicy: 'iam',
  GetPolicy: 'iam',
  GetPolicyVersion: 'iam',
  CreateRole: 'iam',
  PutRolePolicy: 'iam',
  UpdateAssumeRolePolicy: 'iam',
  Publish: 'sns',
  PutItem: 'dynamodb',
  GetItem: 'dynamodb',
  GetCallerIdentity: 'sts',
};

export function apiLatency(op: string): number {
  return API_LATENCY_MS[SERVICE_OF[op] ?? 'iam'] ?? 100;
}

/** The latency model's other inputs (assumptions, see the report). */
export const LATENCY_ASSUMPTIONS = {
  /** CloudTrail -> EventBridge: best effort, no published figure. Typical and pessimistic assumptions. */
  cloudTrailToEventBridgeTypicalS: 30,
  cloudTrailToEventBridgePessimisticS: 300,
  /** EventBridge rule match -> StartExecution. */
  ruleToExecutionMs: 500,
  /** Step Functions Standard: per state transition. */
  perTransitionMs: 50,
  /** Lambda invoke overhead of a warm function. */
  warmInvokeMs: 20,
} as const;

/** The waits of a retrier (seconds), as Step Functions computes them: interval * backoff^n, capped by maxDelay. */
export function retryWaits(retrier: {
  interval?: { toSeconds(): number };
  maxAttempts?: number;
  backoffRate?: number;
  maxDelay?: { toSeconds(): number };
}): number[] {
  const interval = retrier.interval?.toSeconds() ?? 1;
  const rate = retrier.backoffRate ?? 2;
  const cap = retrier.maxDelay?.toSeconds() ?? Number.POSITIVE_INFINITY;
  return Array.from({ length: retrier.maxAttempts ?? 3 }, (_, n) => Math.min(cap, interval * rate ** n));
}

/** RestoreTrail's retries while IAM propagates a new role (infra/constructs/workflow.ts RETRIES.iamPropagation). */
export const IAM_PROPAGATION_WAITS_S = retryWaits(RETRIES.iamPropagation);

export interface OutcomeInput {
  outcome: string;
  transitions: number;
  /** Lambda invocations (task states entered). */
  invocations: number;
  /** Calls by step, for the duration model. */
  byStep: Partial<Record<StepName, Counts>>;
  /** Total calls by operation. */
  commands: Counts;
  /** Audit item size in bytes (0 when no record is written). */
  auditItemBytes: number;
  /** Task states entered, in order (a step may run twice: NotifyFailure is Notify). */
  tasks: StepName[];
  /** Whether the run created a delivery role (IAM propagation may delay UpdateTrail on AWS). */
  createsRole: boolean;
}

export interface CostLine {
  outcome: string;
  transitions: number;
  invocations: number;
  stepFunctions: number;
  lambdaRequests: number;
  lambdaDuration: number;
  sns: number;
  dynamodb: number;
  observability: number;
  total: number;
  /**
   * Extra when every function of the run starts cold (INIT is billed since 1 Aug 2025): the locally measured init
   * scaled by the CPU share of a 256 MB function (256/1,769 of a vCPU), an upper bound for CPU-bound init.
   */
  coldExtra: number;
  /** Modelled billed duration of the run's functions, ms (warm). */
  lambdaMs: number;
  /** Modelled end-to-end latency, s: typical and pessimistic. */
  latencyTypicalS: number;
  latencyPessimisticS: number;
}

/**
 * Duration of one step on AWS, upper-bound model: the step's measured local duration (compute plus moto on
 * loopback) plus every AWS call it made at the assumed latency, as if all its calls were sequential.
 */
export function stepDurationMs(
  step: StepName,
  calls: Counts | undefined,
  localMs: Record<string, number>,
): number {
  const api = Object.entries(calls ?? {}).reduce((t, [op, n]) => t + n * apiLatency(op), 0);
  return (localMs[step] ?? 0) + api;
}

export function projectCost(
  input: OutcomeInput,
  localStepMs: Record<string, number>,
  initMs: Partial<Record<StepName, number>>,
): CostLine {
  // Step durations by task entered (a step entered twice, e.g. Notify and NotifyFailure, is counted twice with
  // the per-step calls split evenly: the counts are per step, not per state).
  const entered = new Map<StepName, number>();
  for (const t of input.tasks) entered.set(t, (entered.get(t) ?? 0) + 1);
  let lambdaMs = 0;
  for (const [step, times] of entered)
    lambdaMs += times * stepDurationMs(step, input.byStep[step], localStepMs);
  const gbSeconds = LAMBDA_MEMORY_GB * (lambdaMs / 1000);
  const stepFunctions = input.transitions * PRICES.stateTransition;
  const lambdaRequests = input.invocations * PRICES.lambdaRequest;
  const lambdaDuration = gbSeconds * PRICES.lambdaGbSecondArm64;
  const publishes = input.commands.Publish ?? 0;
  const sns = publishes * (PRICES.snsPublish + PRICES.snsEmailDelivery);
  const puts = input.commands.PutItem ?? 0;
  const wru = Math.max(1, Math.ceil(input.auditItemBytes / 1024));
  const dynamodb = puts * wru * PRICES.dynamoWriteRequestUnit;
  // One X-Ray trace per execution; ~1 KB of execution and function log lines per transition.
  const observability =
    PRICES.xrayTraceRecorded + ((input.transitions * 1024) / 1024 ** 3) * PRICES.logsIngestionPerGb;
  const total = stepFunctions + lambdaRequests + lambdaDuration + sns + dynamodb + observability;
  const coldMs = [...entered.keys()].reduce((t, s) => t + (initMs[s] ?? 0), 0) * CPU_SCALE;
  const coldExtra = LAMBDA_MEMORY_GB * (coldMs / 1000) * PRICES.lambdaGbSecondArm64;

  const a = LATENCY_ASSUMPTIONS;
  const workflowS =
    (a.ruleToExecutionMs +
      input.transitions * a.perTransitionMs +
      input.invocations * a.warmInvokeMs +
      lambdaMs) /
    1000;
  const propagationTypical = input.createsRole ? (IAM_PROPAGATION_WAITS_S[0] ?? 0) : 0;
  const propagationWorst = input.createsRole ? IAM_PROPAGATION_WAITS_S.reduce((x, y) => x + y, 0) : 0;
  const coldS = coldMs / 1000;
  return {
    outcome: input.outcome,
    transitions: input.transitions,
    invocations: input.invocations,
    stepFunctions,
    lambdaRequests,
    lambdaDuration,
    sns,
    dynamodb,
    observability,
    total,
    coldExtra,
    lambdaMs,
    latencyTypicalS: a.cloudTrailToEventBridgeTypicalS + workflowS + propagationTypical,
    latencyPessimisticS: a.cloudTrailToEventBridgePessimisticS + workflowS + coldS + propagationWorst,
  };
}
