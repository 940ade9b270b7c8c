/**
 * Counts the product's AWS calls with SDK middleware added through `createClients({ onCreate })`: one count per
 * command sent (serialize step) and one per HTTP attempt (deserialize step, inside the SDK's retry loop), keyed
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

/** One operation a step sent: `CloudTrailClient`, `GetTrailCommand`, and its first input. */
export interface SentOperation {
  client: string;
  command: string;
  input: unknown;
}

interface Middleware {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: Record<string, unknown>,
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'serialize' | 'deserialize'; name: string; priority?: 'high' | 'low' },
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
  /**
   * step -> each distinct operation it sent, first use first, with the input it sent the first time (as the
   * client serializes it): what its cold-start floor sends (bench/cold-start.ts).
   */
  operationsByStep: Partial<Record<StepName, SentOperation[]>> = {};
  /** role ARN -> AssumeRole calls (member roles: one per account and role is the most a sweep should need) */
  assumedRoles = new Map<string, number>();
  /** Each step's input, in the order the workflow ran them (replayed in a fresh process by bench/cold-start.ts) */
  payloads: { step: StepName; payload: unknown }[] = [];

  reset(): void {
    this.commands = {};
    this.attempts = {};
    this.byStep = {};
    this.operationsByStep = {};
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
        const input = (args as { input?: { RoleArn?: string } }).input ?? {};
        this.commands[op] = (this.commands[op] ?? 0) + 1;
        if (op === 'AssumeRole' && input.RoleArn)
          this.assumedRoles.set(input.RoleArn, (this.assumedRoles.get(input.RoleArn) ?? 0) + 1);
        const step = this.storage.getStore();
        if (step) {
          const counts = this.byStep[step] ?? {};
          counts[op] = (counts[op] ?? 0) + 1;
          this.byStep[step] = counts;
          const sent = this.operationsByStep[step] ?? [];
          const [clientName, command] = [String(context.clientName), String(context.commandName)];
          if (!sent.some((o) => o.client === clientName && o.command === command))
            sent.push({ client: clientName, command, input: structuredClone(input) });
          this.operationsByStep[step] = sent;
        }
        return next(args);
      },
      // Before the serializer, after lib-dynamodb's marshalling: the input as the client sends it.
      { step: 'serialize', name: 'trailguardBenchCountCommands', priority: 'high' },
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
