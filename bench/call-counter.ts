/**
 * Counts the product's AWS calls with SDK middleware added through `createClients({ onCreate })`: one count per
 * command sent (initialize step) and one per HTTP attempt (deserialize step, inside the SDK's retry loop), keyed
 * by operation name and by the workflow step that made the call. The step is known through AsyncLocalStorage:
 * each step core runs inside `storage.run(step)`, so counting stays right when many executions run at once.
 * Step wall times are recorded the same way, for the cost model.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type AwsClients, createClients } from '../services/aws/clients.js';
import type { StepFunction } from '../services/handlers/deps.js';
import { STEPS, type StepName } from '../services/handlers/registry.js';
import type { StepFactory } from '../services/local/workflow-runner.js';
import { countsTotal } from './stats.js';

export type Counts = Record<string, number>;

interface Middleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: Record<string, unknown>,
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize' | 'deserialize'; name: string; priority?: 'high' | 'low' },
    ): void;
  };
}

/** `PutItemCommand` -> `PutItem`. lib-dynamodb's `PutCommand` sends a `PutItemCommand`, counted as PutItem. */
export function operationName(commandName: unknown): string {
  const name = typeof commandName === 'string' ? commandName : 'Unknown';
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

export class CallCounter {
  private readonly storage = new AsyncLocalStorage<StepName>();
  /** operation -> commands sent */
  commands: Counts = {};
  /** operation -> HTTP attempts (differs from commands only when the SDK retried) */
  attempts: Counts = {};
  /** step -> operation -> commands */
  byStep: Partial<Record<StepName, Counts>> = {};
  /** step -> the SDK clients it called (`CloudTrailClient`, ...), for its cold-start floor */
  clientsByStep: Partial<Record<StepName, Set<string>>> = {};
  /** role ARN -> AssumeRole calls (member roles: one per account and role is the most a sweep should need) */
  assumedRoles = new Map<string, number>();
  /** Each step's input, in the order the workflow ran them (replayed in a fresh process by bench/cold-start.ts) */
  payloads: { step: StepName; payload: unknown }[] = [];

  reset(): void {
    this.commands = {};
    this.attempts = {};
    this.byStep = {};
    this.clientsByStep = {};
    this.payloads = [];
    this.assumedRoles = new Map();
  }

  get total(): number {
    return countsTotal(this.commands);
  }

  get totalAttempts(): number {
    return countsTotal(this.attempts);
  }

  /** Clients whose every call is counted. */
  clients(region: string): AwsClients {
    return createClients({
      defaultRegion: region,
      onCreate: (client) => this.instrument(client as unknown as Middleware),
    });
  }

  /** `createClients({ onCreate })`'s hook: every client it creates is counted (e.g. a member account's clients). */
  readonly onCreate = (client: unknown): void => this.instrument(client as Middleware);

  private instrument(client: Middleware): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = operationName(context.commandName);
        this.commands[op] = (this.commands[op] ?? 0) + 1;
        const role =
          op === 'AssumeRole' ? (args as { input?: { RoleArn?: string } }).input?.RoleArn : undefined;
        if (role) this.assumedRoles.set(role, (this.assumedRoles.get(role) ?? 0) + 1);
        const step = this.storage.getStore();
        if (step) {
          const counts = this.byStep[step] ?? {};
          counts[op] = (counts[op] ?? 0) + 1;
          this.byStep[step] = counts;
          const used = this.clientsByStep[step] ?? new Set<string>();
          used.add(String(context.clientName));
          this.clientsByStep[step] = used;
        }
        return next(args);
      },
      { step: 'initialize', name: 'trailguardBenchCountCommands', priority: 'high' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = operationName(context.commandName);
        this.attempts[op] = (this.attempts[op] ?? 0) + 1;
        return next(args);
      },
      { step: 'deserialize', name: 'trailguardBenchCountAttempts', priority: 'low' },
    );
  }

  /** The registry's step factories, each core run inside the step's async context, its input kept. */
  steps(): Record<StepName, StepFactory> {
    const wrap =
      (step: StepName): StepFactory =>
      (deps) => {
        const core: StepFunction = STEPS[step](deps);
        return (payload) =>
          this.storage.run(step, () => {
            this.payloads.push({ step, payload: structuredClone(payload) });
            return core(payload);
          });
      };
    return Object.fromEntries((Object.keys(STEPS) as StepName[]).map((s) => [s, wrap(s)])) as Record<
      StepName,
      StepFactory
    >;
  }
}
