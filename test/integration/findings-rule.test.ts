/**
 * The Security Hub findings rule (FindingsTrigger) against real pattern matching: its synthesized pattern is
 * put on a moto event bus with an SQS target, "Security Hub Findings - Imported" events are sent, and what moto
 * delivers must be exactly the failed, active, open CloudTrail.5 findings about a trail; the local matcher
 * (used by replay) must agree on the real shape.
 *
 * moto 5.2 does not descend into arrays of objects when it flattens an event (real EventBridge does: the
 * Security Hub user guide's own rule examples filter on `detail.findings.Compliance.Status`, and EventBridge
 * matches a field of an array of objects against every element). So moto gets each one-element array of
 * objects (`findings`, the finding's `Resources`) as that object, which real EventBridge matches identically;
 * the local matcher gets the real shape (`findings: [finding]`). Then the fan-out's execution names: one run per trail and
 * finding evaluation, a duplicate or trailguard's own note update starts nothing twice.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../policies/config.js';
import type { ExecutionRequest, StartedExecution } from '../../services/aws/execution-starter.js';
import { sweepStep } from '../../services/aws/sweep.js';
import { InvalidInputError } from '../../services/domain/errors.js';
import { type EventPattern, matchesEventPattern } from '../../services/domain/event-pattern.js';
import { parseWorkflowInput } from '../../services/domain/events.js';
import { rulePatterns } from '../../services/local/workflow-runner.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../support/aws.js';
import { deliveredByMoto as deliveredOnBus } from '../support/event-bus.js';
import { controlFinding, type Finding, findingsEvent, trailArnOf } from '../support/security-hub.js';

const TRAIL = trailArnOf('main');

interface Sample {
  name: string;
  finding: Finding;
  expected: boolean;
}

const samples: Sample[] = [
  { name: 'FAILED CloudTrail.5, NEW', finding: controlFinding(TRAIL), expected: true },
  {
    name: 'FAILED CloudTrail.5, NOTIFIED',
    finding: controlFinding(TRAIL, { workflow: 'NOTIFIED' }),
    expected: true,
  },
  { name: 'PASSED CloudTrail.5', finding: controlFinding(TRAIL, { status: 'PASSED' }), expected: false },
  {
    name: 'FAILED CloudTrail.4 (another control)',
    finding: controlFinding(TRAIL, { control: 'CloudTrail.4' }),
    expected: false,
  },
  {
    name: 'FAILED CloudTrail.5, RESOLVED (trailguard’s own update)',
    finding: controlFinding(TRAIL, { workflow: 'RESOLVED' }),
    expected: false,
  },
  {
    name: 'FAILED CloudTrail.5, SUPPRESSED',
    finding: controlFinding(TRAIL, { workflow: 'SUPPRESSED' }),
    expected: false,
  },
  {
    name: 'FAILED CloudTrail.5, ARCHIVED',
    finding: controlFinding(TRAIL, { recordState: 'ARCHIVED' }),
    expected: false,
  },
];

let pattern: EventPattern;
beforeAll(async () => {
  const rules = await rulePatterns();
  const rule = rules.find((r) => r.rule === 'FindingsTrigger');
  if (!rule) throw new Error('no FindingsTrigger rule in the template');
  expect(rule.target).toBe('fanout');
  pattern = rule.pattern;
});

/** The finding with its one-element array of objects (`Resources`) as that object, for moto (see above). */
function withoutObjectArrays(finding: Finding): Record<string, unknown> {
  const resources = finding.Resources as unknown[];
  expect(resources).toHaveLength(1);
  return { ...finding, Resources: resources[0] };
}

/** What moto's EventBridge delivers of the samples for the findings rule. */
function deliveredByMoto(): Promise<string[]> {
  return deliveredOnBus(
    pattern,
    samples.map((s) => ({
      name: s.name,
      source: 'aws.securityhub',
      detailType: 'Security Hub Findings - Imported',
      detail: { findings: withoutObjectArrays(s.finding) },
    })),
  );
}

describe('the Security Hub findings rule', () => {
  beforeEach(resetEmulator);

  it('on EventBridge (moto) and locally: only failed, active, open CloudTrail.5 findings', async () => {
    const expected = samples
      .filter((s) => s.expected)
      .map((s) => s.name)
      .sort();
    expect(await deliveredByMoto()).toEqual(expected);
    const local = samples
      .filter((s) => matchesEventPattern(pattern, findingsEvent(s.finding)))
      .map((s) => s.name)
      .sort();
    expect(local).toEqual(expected);
  });
});

describe('the finding as workflow input', () => {
  it('names the trail, with the finding id in the trigger', () => {
    const finding = controlFinding(TRAIL);
    const parsed = parseWorkflowInput(findingsEvent(finding));
    expect(parsed.trail).toEqual({ id: TRAIL, region: REGION });
    expect(parsed.account).toBe(ACCOUNT);
    expect(parsed.trigger).toMatchObject({ kind: 'finding', findingId: finding.Id });
  });

  it('bad input is InvalidInputError: no findings, a finding naming no trail, a malformed finding', () => {
    const event = findingsEvent(controlFinding(TRAIL));
    const bad = [
      { ...event, detail: { findings: [] } },
      {
        ...event,
        detail: {
          findings: [
            { ...controlFinding(TRAIL), Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b' }] },
          ],
        },
      },
      { ...event, detail: { findings: [{ Id: 'x' }] } },
      { ...event, account: 'not-an-account' },
      // A PASSED finding asks for nothing: the workflow has no trail to run for.
      findingsEvent(controlFinding(TRAIL, { status: 'PASSED' })),
    ];
    for (const input of bad)
      expect(() => parseWorkflowInput(input), JSON.stringify(input).slice(0, 80)).toThrow(InvalidInputError);
  });
});

describe('the fan-out of a finding (deterministic execution names)', () => {
  beforeEach(resetEmulator);

  async function fanOut(event: unknown) {
    const started: ExecutionRequest[] = [];
    const names = new Set<string>();
    const start = async (request: ExecutionRequest): Promise<StartedExecution> => {
      started.push(request);
      const fresh = !names.has(request.name);
      names.add(request.name);
      return { name: request.name, executionArn: `arn:x:${request.name}`, started: fresh };
    };
    const sweep = sweepStep({ config: parseConfig({}), clients: testClients(), accountId: ACCOUNT }, start);
    return { result: await sweep(event), started, run: sweep };
  }

  it('one run per trail, carrying the finding id; the same event again, or trailguard’s own note update (same UpdatedAt), maps to the same name', async () => {
    const finding = controlFinding(TRAIL);
    const { result, started } = await fanOut(findingsEvent(finding));
    expect(result).toMatchObject({ kind: 'finding', started: 1, findings: [finding.Id] });
    expect(started).toHaveLength(1);
    expect(started[0]?.input).toMatchObject({
      source: 'trailguard',
      kind: 'finding',
      trail: TRAIL,
      findingId: finding.Id,
      account: ACCOUNT,
    });
    expect(started[0]?.name).toMatch(/^finding-[0-9a-f]{24}-[0-9a-f]{16}$/);

    const again = await fanOut(findingsEvent(finding, 'another-delivery'));
    const noted = await fanOut(
      findingsEvent({ ...finding, Note: { Text: 'trailguard notified: ...', UpdatedBy: 'trailguard' } }),
    );
    const reEvaluated = await fanOut(findingsEvent({ ...finding, UpdatedAt: '2026-11-30T10:00:00.000Z' }));
    const otherFinding = await fanOut(findingsEvent(controlFinding(TRAIL)));
    expect(again.started[0]?.name).toBe(started[0]?.name);
    expect(noted.started[0]?.name).toBe(started[0]?.name);
    expect(reEvaluated.started[0]?.name).not.toBe(started[0]?.name);
    expect(otherFinding.started[0]?.name).not.toBe(started[0]?.name);
  });

  it('a duplicate delivered to the same function starts nothing twice', async () => {
    const event = findingsEvent(controlFinding(TRAIL));
    const { run } = await fanOut(event);
    const second = await run(event);
    expect(second).toMatchObject({ started: 0, duplicates: 1 });
  });

  it('with securityHub off, a findings event that reaches the function anyway starts nothing', async () => {
    const started: ExecutionRequest[] = [];
    const sweep = sweepStep(
      { config: parseConfig({ securityHub: false }), clients: testClients(), accountId: ACCOUNT },
      async (request) => {
        started.push(request);
        return { name: request.name, executionArn: 'arn:x', started: true };
      },
    );
    const result = await sweep(findingsEvent(controlFinding(TRAIL)));
    expect(started).toEqual([]);
    expect(result.reason).toMatch(/securityHub is off/);
  });

  it('a trail of another account is not ours: nothing started', async () => {
    const { result, started } = await fanOut(
      findingsEvent(controlFinding(`arn:aws:cloudtrail:${REGION}:999999999999:trail/main`)),
    );
    expect(started).toEqual([]);
    expect(result.trails).toEqual([expect.objectContaining({ verdict: 'not-ours' })]);
  });
});
