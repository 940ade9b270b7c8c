/**
 * Security Hub in and out, end to end through the synthesized workflow (replayEvent: the stack's rules from
 * the template, then the fan-out and the state machine, in process, against moto):
 * - a replayed "Security Hub Findings - Imported" event for a FAILED CloudTrail.5 finding fixes the trail the
 *   finding names (checked independently), with the finding id in the run's context and audit record;
 * - the remediated run marks the finding RESOLVED with a note naming the run (moto holds the finding:
 *   BatchImportFindings / GetFindings; BatchUpdateFindings, which moto lacks, through aws-sdk-client-mock);
 * - a notified run adds a note and leaves the status; Security Hub errors and "not enabled" are recorded in
 *   the audit record and the run's outcome stands;
 * - one email per run and outcome when Notify is retried after it published (Powertools idempotency on
 *   moto's DynamoDB).
 */
import { GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { beforeEach, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../services/aws/audit-store.js';
import { type AwsClients, createClients } from '../../services/aws/clients.js';
import { updateControlFindings } from '../../services/aws/security-hub.js';
import { asffFindingSchema, FindingOutOfScopeError } from '../../services/domain/security-hub.js';
import { STEPS } from '../../services/handlers/registry.js';
import { replayEvent } from '../../services/local/replay.js';
import { ACCOUNT, currentCredentials, REGION, testClients } from '../support/aws.js';
import { adminEvent } from '../support/events.js';
import { FaultInjector } from '../support/faults.js';
import { independentProblems } from '../support/independent-check.js';
import { onResponse } from '../support/sdk-middleware.js';
import {
  controlFinding,
  findingsEvent,
  heldFindings,
  importFindings,
  trailArnOf,
  withBatchUpdateFindings,
} from '../support/security-hub.js';
import { seedBrokenTrail, seedCompliantTrail } from '../support/seed.js';
import { freshGuardrail, mails, TABLE } from './reliability/harness.js';

const TRAIL = 'main';

let clients: AwsClients;
beforeEach(async () => {
  await freshGuardrail();
  clients = testClients();
});

async function records() {
  return listAuditRecords(clients, TABLE);
}

describe('findings in: a replayed Security Hub CloudTrail.5 FAILED finding', () => {
  it('fixes the trail it names; the run carries the finding id (BatchUpdateFindings mocked: moto lacks it)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    expect(await independentProblems(TRAIL)).not.toEqual([]);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const hub = withBatchUpdateFindings(clients);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients });
      expect(result.outcome, result.reason).toBe('remediated');
      expect(result.runs).toHaveLength(1);
      expect(result.runs?.[0]?.trail).toBe(seeded.trailArn);
      expect(await independentProblems(TRAIL)).toEqual([]);
      const context = result.runs?.[0]?.context;
      expect(context?.trigger).toMatchObject({ kind: 'finding', findingId: finding.Id });

      const [record] = await records();
      expect(record).toMatchObject({
        trail: seeded.trailArn,
        outcome: 'remediated',
        triggerKind: 'finding',
        findingId: finding.Id,
      });
      const sent = await mails();
      expect(sent.map((m) => m.subject)).toEqual([`[trailguard] REMEDIATED: trail ${TRAIL} (${REGION})`]);
      expect(sent[0]?.message).toContain(finding.Id);
    } finally {
      hub.restore();
    }
  });

  it('a PASSED, RESOLVED or other-control finding starts nothing (the rule does not match)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    for (const finding of [
      controlFinding(seeded.trailArn, { status: 'PASSED' }),
      controlFinding(seeded.trailArn, { workflow: 'RESOLVED' }),
      controlFinding(seeded.trailArn, { workflow: 'SUPPRESSED' }),
      controlFinding(seeded.trailArn, { recordState: 'ARCHIVED' }),
      controlFinding(seeded.trailArn, { control: 'CloudTrail.4' }),
    ]) {
      const result = await replayEvent(findingsEvent(finding), { clients });
      expect(result.outcome, JSON.stringify(finding.Compliance)).toBe('ignored');
    }
    expect(await independentProblems(TRAIL)).not.toEqual([]);
    expect(await records()).toEqual([]);
    expect(await mails()).toEqual([]);
  });

  it('with securityHub off, the same FAILED finding event is ignored (no rule)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const result = await replayEvent(findingsEvent(controlFinding(seeded.trailArn)), {
      clients,
      config: { securityHub: false },
    });
    expect(result.outcome).toBe('ignored');
    expect(await records()).toEqual([]);
  });

  it('a finding about a trail of another account starts nothing here', async () => {
    const other = controlFinding(`arn:aws:cloudtrail:${REGION}:999999999999:trail/${TRAIL}`);
    const result = await replayEvent(findingsEvent(other), { clients });
    expect(result.runs ?? []).toEqual([]);
    expect(result.reason).toMatch(/0 run\(s\) started/);
  });
});

describe('findings out: what the run does to the trail’s CloudTrail.5 finding', () => {
  it('a remediated run marks the finding RESOLVED with a note naming the run (BatchUpdateFindings mocked: moto lacks it)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    const unrelated = controlFinding(trailArnOf('other-trail'));
    const otherControl = controlFinding(seeded.trailArn, { control: 'CloudTrail.4' });
    await importFindings(finding, unrelated, otherControl);
    const hub = withBatchUpdateFindings(clients);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients });
      expect(result.outcome, result.reason).toBe('remediated');
      const executionName = result.runs?.[0]?.executionId?.split(':').at(-1) ?? '';
      expect(executionName).toMatch(/^finding-[0-9a-f]{24}-[0-9a-f]{16}$/);

      // One request, for this trail's CloudTrail.5 finding only.
      expect(hub.requests).toHaveLength(1);
      const [request] = hub.requests;
      expect(request?.FindingIdentifiers).toEqual([{ Id: finding.Id, ProductArn: finding.ProductArn }]);
      expect(request?.Workflow).toEqual({ Status: 'RESOLVED' });
      expect(request?.Note?.UpdatedBy).toBe('trailguard');
      expect(request?.Note?.Text).toMatch(
        new RegExp(`^trailguard remediated: .*\\(execution ${executionName}; actions: .*UpdateTrail`),
      );
      expect(request?.Note?.Text?.length).toBeLessThanOrEqual(512);

      // Security Hub (moto's copy) shows it; the other findings are untouched.
      const held = await heldFindings();
      expect(held.get(finding.Id)).toMatchObject({
        Workflow: { Status: 'RESOLVED' },
        Note: { Text: request?.Note?.Text, UpdatedBy: 'trailguard' },
      });
      expect(held.get(unrelated.Id)).toMatchObject({ Workflow: { Status: 'NEW' } });
      expect(held.get(otherControl.Id)).toMatchObject({ Workflow: { Status: 'NEW' } });

      // The audit record shows the update and the note.
      const [record] = await records();
      expect(record?.securityHub).toEqual({
        status: 'updated',
        workflowStatus: 'RESOLVED',
        note: request?.Note?.Text,
        findings: [{ id: finding.Id, productArn: finding.ProductArn }],
      });
    } finally {
      hub.restore();
    }
  });

  it('a notified run adds a note and leaves the status', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const hub = withBatchUpdateFindings(clients);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients, config: { mode: 'notify-only' } });
      expect(result.outcome, result.reason).toBe('notified');
      expect(hub.requests).toHaveLength(1);
      expect(hub.requests[0]?.Workflow).toBeUndefined();
      expect(hub.requests[0]?.Note?.Text).toMatch(/^trailguard notified: not fixed automatically/);
      expect((await heldFindings()).get(finding.Id)).toMatchObject({ Workflow: { Status: 'NEW' } });
      const [record] = await records();
      expect(record?.securityHub).toMatchObject({ status: 'updated', note: hub.requests[0]?.Note?.Text });
      expect(record?.securityHub?.workflowStatus).toBeUndefined();
    } finally {
      hub.restore();
    }
  });

  it('a repair blocked by a service control policy: NOTIFIED, with a note naming the refusal (BatchUpdateFindings mocked: moto lacks it; the AccessDenied injected at the SDK layer: moto enforces no SCP)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const injector = new FaultInjector([
      {
        operation: 'UpdateTrail',
        mode: 'fail',
        error: () =>
          Object.assign(
            new Error(
              `User: arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-RestoreTrailRole/s is not authorized to perform: cloudtrail:UpdateTrail on resource: ${seeded.trailArn} with an explicit deny in a service control policy`,
            ),
            { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
          ),
      },
    ]);
    const blockedClients = injector.clients();
    const hub = withBatchUpdateFindings(blockedClients);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients: blockedClients });
      expect(result.outcome, result.reason).toBe('notified');
      expect(hub.requests).toHaveLength(1);
      expect(hub.requests[0]?.Workflow).toEqual({ Status: 'NOTIFIED' });
      expect(hub.requests[0]?.Note?.Text).toMatch(
        /^trailguard notified: not fixed automatically, a person must act: UpdateTrail was refused by an explicit deny in a service control policy/,
      );
      expect((await heldFindings()).get(finding.Id)).toMatchObject({ Workflow: { Status: 'NOTIFIED' } });
    } finally {
      hub.restore();
    }
  });

  it('a compliant trail with an old finding: nothing to update (the run ends quietly)', async () => {
    const seeded = await seedCompliantTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const hub = withBatchUpdateFindings(clients);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients });
      expect(result.outcome).toBe('compliant');
      expect(hub.requests).toEqual([]);
    } finally {
      hub.restore();
    }
  });

  it('no finding for the trail: nothing happens in Security Hub, recorded as no-findings', async () => {
    await seedBrokenTrail(clients, TRAIL);
    const hub = withBatchUpdateFindings(clients);
    try {
      const result = await replayEvent(
        { ...findingsEvent(controlFinding(trailArnOf(TRAIL))), id: 'e-no-finding' },
        { clients },
      );
      expect(result.outcome).toBe('remediated');
      expect(hub.requests).toEqual([]);
      expect((await records())[0]?.securityHub).toMatchObject({ status: 'no-findings' });
    } finally {
      hub.restore();
    }
  });

  it('a Security Hub error is recorded in the audit record and the run stays remediated', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const denied = Object.assign(
      new Error('User is not authorized to perform: securityhub:BatchUpdateFindings'),
      {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      },
    );
    const hub = withBatchUpdateFindings(clients, { fail: denied });
    try {
      const result = await replayEvent(findingsEvent(finding), { clients });
      expect(result.outcome, result.reason).toBe('remediated');
      expect(await independentProblems(TRAIL)).toEqual([]);
      const [record] = await records();
      expect(record?.outcome).toBe('remediated');
      expect(record?.securityHub).toEqual({
        status: 'error',
        error: {
          name: 'AccessDeniedException',
          message: expect.stringMatching(
            /^BatchUpdateFindings \(1 finding\(s\)\) failed: AccessDeniedException/,
          ),
        },
      });
      expect((await heldFindings()).get(finding.Id)).toMatchObject({ Workflow: { Status: 'NEW' } });
      expect((await mails()).map((m) => m.subject)).toEqual([
        `[trailguard] REMEDIATED: trail ${TRAIL} (${REGION})`,
      ]);
    } finally {
      hub.restore();
    }
  });

  it('findings Security Hub did not process are an error in the audit record, not a success', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const hub = withBatchUpdateFindings(clients, {
      unprocessed: { ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding not found' },
    });
    try {
      const result = await replayEvent(findingsEvent(finding), { clients });
      expect(result.outcome, result.reason).toBe('remediated');
      const [record] = await records();
      expect(record?.securityHub).toMatchObject({
        status: 'error',
        findings: [],
        unprocessed: [{ id: finding.Id, errorCode: 'FindingNotFound', errorMessage: 'Finding not found' }],
        error: { name: 'UnprocessedFindings', message: expect.stringMatching(/did not update 1 of 1/) },
      });
    } finally {
      hub.restore();
    }
  });

  it('Security Hub not enabled (InvalidAccessException): nothing happens, the run is not failed', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const { mockClient } = await import('aws-sdk-client-mock');
    const { GetFindingsCommand } = await import('@aws-sdk/client-securityhub');
    const mock = mockClient(clients.securityHub(REGION));
    mock.on(GetFindingsCommand).rejects(
      Object.assign(new Error('Account 123 is not subscribed to AWS Security Hub'), {
        name: 'InvalidAccessException',
        $metadata: { httpStatusCode: 401 },
      }),
    );
    try {
      const result = await replayEvent(findingsEvent(controlFinding(seeded.trailArn)), { clients });
      expect(result.outcome, result.reason).toBe('remediated');
      expect((await records())[0]?.securityHub).toMatchObject({ status: 'not-enabled' });
    } finally {
      mock.restore();
    }
  });
});

describe('one email per outcome', () => {
  it('a retried Notify sends one email: Step Functions retries it after it published (Lambda answer lost)', async () => {
    await seedBrokenTrail(clients, TRAIL);
    let calls = 0;
    const result = await replayEvent(findingsEvent(controlFinding(trailArnOf(TRAIL))), {
      clients,
      steps: {
        // The function published and returned, but Step Functions never got the answer: it retries the task
        // (Lambda.ServiceException is retried by the workflow's policy).
        Notify: (deps) => {
          const core = STEPS.Notify(deps);
          return async (payload) => {
            calls += 1;
            const out = await core(payload);
            if (calls === 1) throw Object.assign(new Error('lost'), { name: 'Lambda.ServiceException' });
            return out;
          };
        },
      },
    });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(calls).toBe(2);
    const sent = (await mails()).filter((m) => m.subject?.includes('REMEDIATED'));
    expect(sent).toHaveLength(1);
    const [record] = await records();
    expect(record?.notification).toMatchObject({ deduplication: 'deduplicated' });
    // The retry returned the first attempt's stored result: the message id of the one email sent.
    expect(record?.notification?.messageId).toBe(sent[0]?.messageId);
  });
});

describe('findings out: the code refuses any finding but a CloudTrail.5 finding of the run’s trail', () => {
  it('another control’s or another trail’s finding: FindingOutOfScopeError, and no BatchUpdateFindings call (mocked: moto lacks it)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const ours = controlFinding(seeded.trailArn);
    const otherControl = controlFinding(seeded.trailArn, { control: 'IAM.1' });
    const otherTrail = controlFinding(trailArnOf('other'));
    await importFindings(ours, otherControl, otherTrail);
    const held = await heldFindings();
    const parse = (id: string) => asffFindingSchema().parse(held.get(id));
    const hub = withBatchUpdateFindings(clients);
    try {
      const plan = { workflowStatus: 'RESOLVED' as const, note: 'trailguard remediated: test' };
      for (const foreign of [otherControl.Id, otherTrail.Id]) {
        await expect(
          updateControlFindings(clients, REGION, seeded.trailArn, [parse(ours.Id), parse(foreign)], plan),
        ).rejects.toThrow(FindingOutOfScopeError);
      }
      expect(hub.requests).toEqual([]);
      // The trail's own finding alone is updated.
      const done = await updateControlFindings(clients, REGION, seeded.trailArn, [parse(ours.Id)], plan);
      expect(done.findings?.map((f) => f.id)).toEqual([ours.Id]);
      expect(hub.requests).toHaveLength(1);
      expect((await heldFindings()).get(otherControl.Id)?.Workflow).toEqual(otherControl.Workflow);
    } finally {
      hub.restore();
    }
  });
});

/**
 * Clients whose GetTrailStatus answers report a CloudWatch Logs delivery from the `from`-th read on (moto
 * reports none; injected at the SDK layer): Check and Verify read no delivery, CheckDelivery (3rd) sees one.
 */
function deliveringFrom(from: number | undefined): AwsClients {
  let n = 0;
  return createClients({
    defaultRegion: REGION,
    maxAttempts: 1,
    credentials: currentCredentials,
    onCreate: (client) =>
      onResponse(client, 'injectDelivery', (command, output) => {
        if (command !== GetTrailStatusCommand.name) return;
        n += 1;
        if (from !== undefined && n >= from)
          output.LatestCloudWatchLogsDeliveryTime = new Date(Date.now() + 1000);
      }),
  });
}

describe('findings out: RESOLVED only after the delivery check confirms delivery', () => {
  it('confirmed: a note after Verify, RESOLVED only at UpdateFindingsDelivery (BatchUpdateFindings mocked: moto lacks it; delivery injected at the SDK layer)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const delivering = deliveringFrom(3);
    const hub = withBatchUpdateFindings(delivering);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients: delivering, deliveryCheck: true });
      expect(result.outcome, result.reason).toBe('remediated');
      expect(hub.requests.map((r) => r.Workflow?.Status)).toEqual([undefined, 'RESOLVED']);
      expect(hub.requests[0]?.Note?.Text).toMatch(
        /resolved only once the delivery check confirms logs arrive/,
      );
      expect(hub.requests[1]?.Note?.Text).toMatch(/delivery confirmed/);
      expect((await heldFindings()).get(finding.Id)).toMatchObject({ Workflow: { Status: 'RESOLVED' } });
      const check = (await records()).find((r) => r.kind === 'delivery-check');
      expect(check?.securityHub).toMatchObject({ status: 'updated', workflowStatus: 'RESOLVED' });
    } finally {
      hub.restore();
    }
  });

  it('not confirmed: NOTIFIED, with a note that says why (BatchUpdateFindings mocked: moto lacks it)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const finding = controlFinding(seeded.trailArn);
    await importFindings(finding);
    const silent = deliveringFrom(undefined);
    const hub = withBatchUpdateFindings(silent);
    try {
      const result = await replayEvent(findingsEvent(finding), { clients: silent, deliveryCheck: true });
      expect(result.outcome, result.reason).toBe('remediated');
      expect(hub.requests.map((r) => r.Workflow?.Status)).toEqual([undefined, 'NOTIFIED']);
      expect(hub.requests[1]?.Note?.Text).toMatch(/delivery is not confirmed \(no-delivery\): /);
      expect((await heldFindings()).get(finding.Id)).toMatchObject({
        Workflow: { Status: 'NOTIFIED' },
        Note: { UpdatedBy: 'trailguard' },
      });
    } finally {
      hub.restore();
    }
  });
});

describe('findings out: a finding trailguard resolved is re-opened when its trail fails again', () => {
  it('the next run sets it NEW with a note saying why; a finding someone else resolved is left alone (BatchUpdateFindings mocked: moto lacks it)', async () => {
    const seeded = await seedBrokenTrail(clients, TRAIL);
    const ours = controlFinding(seeded.trailArn);
    const theirs = controlFinding(seeded.trailArn);
    await importFindings(
      {
        ...ours,
        Workflow: { Status: 'RESOLVED' },
        Note: {
          Text: 'trailguard remediated: ...',
          UpdatedBy: 'trailguard',
          UpdatedAt: '2026-11-29T10:05:00.000Z',
        },
      },
      {
        ...theirs,
        Workflow: { Status: 'RESOLVED' },
        Note: { Text: 'accepted risk', UpdatedBy: 'alice', UpdatedAt: '2026-11-29T10:05:00.000Z' },
      },
    );
    const hub = withBatchUpdateFindings(clients);
    try {
      // The trail broke again: a person must act (notify-only), so nothing resolves it in this run.
      const result = await replayEvent(adminEvent('StopLogging', TRAIL), {
        clients,
        config: { mode: 'notify-only' },
      });
      expect(result.outcome, result.reason).toBe('notified');
      // One GetFindings for both kinds (moto ignores filters, so they are checked as sent): the trail's active
      // CloudTrail.5 findings that are open or RESOLVED, of any compliance status; the split is the product's.
      expect(hub.queries).toHaveLength(1);
      expect(hub.queries[0]?.Filters).toEqual({
        ResourceId: [{ Value: seeded.trailArn, Comparison: 'EQUALS' }],
        ResourceType: [{ Value: 'AwsCloudTrailTrail', Comparison: 'EQUALS' }],
        ComplianceSecurityControlId: [{ Value: 'CloudTrail.5', Comparison: 'EQUALS' }],
        RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
        WorkflowStatus: ['NEW', 'NOTIFIED', 'RESOLVED'].map((Value) => ({ Value, Comparison: 'EQUALS' })),
      });
      expect(hub.requests).toHaveLength(1);
      expect(hub.requests[0]?.FindingIdentifiers).toEqual([{ Id: ours.Id, ProductArn: ours.ProductArn }]);
      expect(hub.requests[0]?.Workflow).toEqual({ Status: 'NEW' });
      expect(hub.requests[0]?.Note?.Text).toMatch(/^trailguard re-opened: the trail failed again/);
      const held = await heldFindings();
      expect(held.get(ours.Id)).toMatchObject({ Workflow: { Status: 'NEW' } });
      expect(held.get(theirs.Id)).toMatchObject({
        Workflow: { Status: 'RESOLVED' },
        Note: { UpdatedBy: 'alice' },
      });
      const [record] = await records();
      expect(record?.securityHub).toMatchObject({
        status: 'updated',
        reopened: [{ id: ours.Id, productArn: ours.ProductArn }],
      });
    } finally {
      hub.restore();
    }
  });
});
