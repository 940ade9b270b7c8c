/**
 * Section 1: AWS calls per scenario. Each scenario runs in a fresh emulator account through the real workflow
 * (`replayEvent`: the stack's rule, then the synthesized state machine), with counted clients.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { StepName } from '../services/handlers/registry.js';
import type { MotoServer } from '../services/local/moto.js';
import { type ReplayResult, replayEvent } from '../services/local/replay.js';
import type { CallCounter, Counts } from './call-counter.js';
import { freshAccount, REGION, setupClients } from './emulator.js';
import {
  cloudTrailEvent,
  type OutcomeScenario,
  type Scenario,
  seedScenario,
  trailName,
} from './scenarios.js';

export interface ScenarioRun {
  scenario: Scenario;
  trail: string;
  outcome: string;
  findings: string[];
  actions: string[];
  commands: Counts;
  attempts: number;
  total: number;
  byStep: Partial<Record<StepName, Counts>>;
  transitions: number;
  states: string[];
  /** Wall time of replayEvent (single shot; informative only). */
  ms: number;
  result: ReplayResult;
}

export class ScenarioMismatchError extends Error {
  override name = 'ScenarioMismatchError';
}

/** Seeds the scenario in a fresh account, replays its event once and returns what was counted. */
export async function runScenario(
  moto: MotoServer,
  scenario: OutcomeScenario,
  counter: CallCounter,
  n = 0,
): Promise<ScenarioRun> {
  const setup = setupClients();
  await freshAccount(moto.endpoint, setup);
  const trail = trailName(`bench-${scenario.outcome}-${scenario.id}`, n).slice(0, 120);
  await seedScenario(setup, scenario, trail);
  counter.reset();
  const clients = counter.clients(REGION);
  const started = performance.now();
  const result = await replayEvent(cloudTrailEvent(scenario.eventName, trail, n), {
    clients,
    steps: counter.steps(),
    ...(scenario.config ? { config: scenario.config } : {}),
  });
  const ms = performance.now() - started;
  const findings = [...result.findings].sort();
  if (result.outcome !== scenario.outcome || findings.join() !== [...scenario.findings].sort().join()) {
    throw new ScenarioMismatchError(
      `scenario ${scenario.id} (${scenario.title}): expected ${scenario.outcome} with [${scenario.findings.join(', ')}], got ${result.outcome} with [${findings.join(', ')}] (${result.reason})`,
    );
  }
  return {
    scenario,
    trail,
    outcome: result.outcome,
    findings,
    actions: result.actions.map((a) => a.api),
    commands: { ...counter.commands },
    attempts: counter.totalAttempts,
    total: counter.total,
    byStep: structuredClone(counter.byStep),
    transitions: result.transitions ?? 0,
    states: result.states ?? [],
    ms,
    result,
  };
}

type AttributeValue = {
  S?: string;
  N?: string;
  B?: Uint8Array;
  BOOL?: boolean;
  NULL?: boolean;
  L?: AttributeValue[];
  M?: Record<string, AttributeValue>;
  SS?: string[];
  NS?: string[];
};

/** DynamoDB's item size rules (approximately: numbers by digit count), in bytes. */
export function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/[-.]/g, '').length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L) return 3 + value.L.reduce((t, v) => t + 1 + attributeSize(v), 0);
  if (value.M)
    return (
      3 + Object.entries(value.M).reduce((t, [k, v]) => t + 1 + Buffer.byteLength(k) + attributeSize(v), 0)
    );
  if (value.SS) return value.SS.reduce((t, s) => t + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((t, n) => t + n.length, 0);
  return 0;
}

/** The size of the audit items in the table (one per run in a fresh account), in bytes. */
export async function auditItemSizes(tableName: string): Promise<number[]> {
  const dynamo = setupClients().dynamo();
  const out = await dynamo.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return (out.Items ?? []).map((item) =>
    Object.entries(item).reduce(
      (t, [k, v]) => t + Buffer.byteLength(k) + attributeSize(v as AttributeValue),
      0,
    ),
  );
}
