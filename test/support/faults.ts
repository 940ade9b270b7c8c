/**
 * Fault injection at the SDK layer, for reliability tests. A FaultInjector is handed to
 * `createClients({ onCreate })`: it adds one middleware to every client the product creates, which records
 * every call the product makes (service, operation, input) and can make chosen calls fail the way AWS or
 * the network fails them: throttling, 5xx, timeouts (before or after the request reached AWS), a write that
 * is silently lost, CloudTrail refusing the delivery role, or any error or side effect a test supplies.
 *
 * The middleware sits in the `initialize` step, above the SDK's own retry: an injected error reaches the
 * product exactly as a failure that survived the SDK's retries would. Calls are counted per operation, so
 * a rule can fail "the first N calls of UpdateTrail" and let the (N+1)-th through.
 */
import { InvalidCloudWatchLogsRoleArnException } from '@aws-sdk/client-cloudtrail';
import type { InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';
import { type AwsClients, type ClientOptions, createClients } from '../../services/aws/clients.js';
import { REGION } from './aws.js';

export type SdkClient = Parameters<NonNullable<ClientOptions['onCreate']>>[0];

/** Operations that only read. Anything else counts as a write (unknown operations too: fail safe). */
const READ_OPERATION = /^(Get|List|Describe|Query|Scan|BatchGet|LookupEvents|TestEventPattern)/;

export function isWriteOperation(operation: string): boolean {
  return !READ_OPERATION.test(operation);
}

export interface CallRecord {
  /** The client's service, e.g. `CloudTrail`, `IAM`, `DynamoDB`. */
  service: string;
  /** The operation, e.g. `UpdateTrail`. */
  operation: string;
  /** The client's region (IAM and STS answer from their default region). */
  region?: string;
  input: unknown;
  /** The 1-based number of this call among the calls of the same operation. */
  n: number;
  /** Set when a fault rule handled the call. */
  fault?: string;
  /** Whether the request was sent to AWS (false: thrown before sending, or dropped). */
  sent: boolean;
}

/** How an injected fault behaves. */
export type FaultMode =
  /** Throw before the request is sent: AWS never saw it. */
  | 'fail'
  /** Send the request (AWS makes the change), then throw: the response was lost. */
  | 'fail-after-send'
  /** Answer success without sending: the write is silently lost. */
  | 'drop';

export interface FaultRule {
  /** The operation, e.g. `UpdateTrail` (without `Command`); `*` for every operation. */
  operation: string;
  /** Only this service's calls (e.g. `CloudTrail`); default any. */
  service?: string;
  /** How many of the matching calls fail, counting from the first (default every one). */
  times?: number;
  /** Skip this many matching calls before the first failure (default 0). */
  after?: number;
  mode?: FaultMode;
  /** The error thrown (not used by `drop`). */
  error?: () => Error;
  /** Runs before the fault takes effect (e.g. a concurrent change by someone else). */
  before?: (call: CallRecord) => Promise<void>;
  /** A label for the call record (default: the error's name or the mode). */
  label?: string;
  /** Only calls this accepts (e.g. by their input); default every call of the operation. */
  when?: (call: CallRecord) => boolean;
}

function sdkError(
  name: string,
  message: string,
  status: number,
  fault: 'client' | 'server',
): Error & { $metadata: { httpStatusCode: number }; $fault: string } {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });
}

/** Error factories for the faults AWS and the network really produce. */
export const errors = {
  throttling: () => sdkError('ThrottlingException', 'Rate exceeded', 400, 'client'),
  tooManyRequests: () => sdkError('TooManyRequestsException', 'Too Many Requests', 429, 'client'),
  internalError: () =>
    sdkError('InternalFailure', 'We encountered an internal error. Please try again.', 500, 'server'),
  serviceUnavailable: () => sdkError('ServiceUnavailable', 'Service Unavailable', 503, 'server'),
  /** A 502 from a proxy: no known exception name, only the status says it is transient. */
  badGateway: () => sdkError('UnknownError', 'Bad Gateway', 502, 'server'),
  /** What the SDK's Node HTTP handler throws when a request times out. */
  timeout: () => Object.assign(new Error('Connection timed out after 30000 ms'), { name: 'TimeoutError' }),
  /** A dropped connection. */
  connectionReset: () =>
    Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET', $retryable: {} }),
  /** CloudTrail refusing a delivery role it cannot (yet) assume. */
  roleRejected: () =>
    new InvalidCloudWatchLogsRoleArnException({
      message: 'Access denied. Verify in IAM that the role has adequate permissions.',
      $metadata: { httpStatusCode: 400 },
    }),
  accessDenied: () =>
    sdkError('AccessDeniedException', 'User is not authorized to perform this action', 400, 'client'),
} satisfies Record<string, () => Error>;

export type ErrorKind = keyof typeof errors;

/** `fail` rule: the first `times` calls of `operation` throw `kind` before reaching AWS. */
export function failing(operation: string, kind: ErrorKind, times = Number.POSITIVE_INFINITY): FaultRule {
  return { operation, times, mode: 'fail', error: errors[kind], label: kind };
}

function copy(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

const nameOf = (value: string | undefined, suffix: string) =>
  value?.endsWith(suffix) ? value.slice(0, -suffix.length) : (value ?? 'unknown');

/**
 * Records every SDK call made through the clients it is attached to, and injects the faults of its rules.
 * Rules can be added and removed while the clients are in use.
 */
export class FaultInjector {
  readonly calls: CallRecord[] = [];
  private readonly counts = new Map<string, number>();
  private readonly matched = new Map<FaultRule, number>();

  private rules: FaultRule[];

  constructor(rules: readonly FaultRule[] = []) {
    this.rules = [...rules];
  }

  add(...rules: FaultRule[]): this {
    this.rules.push(...rules);
    return this;
  }

  clear(): this {
    this.rules = [];
    this.matched.clear();
    return this;
  }

  /** Pass to createClients: adds the recording and fault middleware to every client created. */
  readonly onCreate = (client: SdkClient): void => {
    const stack = client.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>;
    const region = async (): Promise<string | undefined> => {
      const value: unknown = (client.config as { region?: unknown }).region;
      try {
        return typeof value === 'function'
          ? String(await value())
          : typeof value === 'string'
            ? value
            : undefined;
      } catch {
        return undefined;
      }
    };
    stack.add(this.middleware(region), {
      step: 'initialize',
      name: 'trailguardFaultInjection',
      priority: 'high',
      override: true,
    });
  };

  private middleware(
    region: () => Promise<string | undefined>,
  ): InitializeMiddleware<object, MetadataBearer> {
    return (next, context) => async (args) => {
      const service = nameOf(context.clientName, 'Client');
      const operation = nameOf(context.commandName, 'Command');
      const n = (this.counts.get(operation) ?? 0) + 1;
      this.counts.set(operation, n);
      const call: CallRecord = { service, operation, input: copy(args.input), n, sent: false };
      const where = await region();
      if (where) call.region = where;
      this.calls.push(call);
      const rule = this.ruleFor(call);
      if (!rule) {
        call.sent = true;
        return next(args);
      }
      call.fault = rule.label ?? rule.mode ?? 'fail';
      await rule.before?.(call);
      switch (rule.mode ?? 'fail') {
        case 'drop':
          return { output: { $metadata: { httpStatusCode: 200 } }, response: {} } as never;
        case 'fail-after-send':
          call.sent = true;
          await next(args);
          throw (rule.error ?? errors.timeout)();
        case 'fail':
          throw (rule.error ?? errors.serviceUnavailable)();
      }
    };
  }

  private ruleFor(call: CallRecord): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.operation !== '*' && rule.operation !== call.operation) continue;
      if (rule.service && rule.service !== call.service) continue;
      if (rule.when && !rule.when(call)) continue;
      const seen = (this.matched.get(rule) ?? 0) + 1;
      this.matched.set(rule, seen);
      const after = rule.after ?? 0;
      if (seen > after && seen - after <= (rule.times ?? Number.POSITIVE_INFINITY)) return rule;
    }
    return undefined;
  }

  /** Clients whose every call goes through this injector (no SDK retries: faults reach the product). */
  clients(options: Omit<ClientOptions, 'onCreate'> = {}): AwsClients {
    return createClients({ defaultRegion: REGION, maxAttempts: 1, ...options, onCreate: this.onCreate });
  }

  /** Every call of an operation, in order. */
  callsOf(operation: string): CallRecord[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  /** The write calls made (attempted), injected or not. */
  writes(): CallRecord[] {
    return this.calls.filter((c) => isWriteOperation(c.operation));
  }

  /** The write calls that really reached AWS (not thrown before sending, not dropped). */
  sentWrites(): CallRecord[] {
    return this.writes().filter((c) => c.sent);
  }

  /** The distinct operations called, in order of first call. */
  operations(): string[] {
    return [...new Set(this.calls.map((c) => c.operation))];
  }
}
