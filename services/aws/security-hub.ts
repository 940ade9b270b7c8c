/**
 * Security Hub reads and writes for a trail's CloudTrail.5 findings, in the trail's home region (Security Hub
 * is regional). Only two calls: GetFindings and BatchUpdateFindings.
 *
 * GetFindings filters (Security Hub API Reference, "AwsSecurityFindingFilters"): `ResourceId` = the trail
 * ARN, `ComplianceSecurityControlId` = CloudTrail.5 (present on every control finding, consolidated or not),
 * `ComplianceStatus` FAILED, `RecordState` ACTIVE, `WorkflowStatus` NEW or NOTIFIED. The answer is checked
 * again here (an emulator may ignore filters, and a SUPPRESSED finding must never be touched).
 * BatchUpdateFindings (API Reference, "BatchUpdateFindings"): `FindingIdentifiers` (Id + ProductArn), at most
 * 100 a call, `Note` {Text, UpdatedBy} of at most 512 characters each, `Workflow.Status`; it reports findings it
 * could not update in `UnprocessedFindings` instead of failing the call. It does not change `UpdatedAt`.
 */
import type { BatchUpdateFindingsCommandOutput, GetFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { awsErrorName, isTransient, TrailguardError } from '../domain/errors.js';
import {
  type AsffFinding,
  asffFindingSchema,
  assertFindingsInScope,
  controlIdOf,
  type FindingsUpdatePlan,
  isOpenFailedControlFinding,
  NOTE_AUTHOR,
  OPEN_WORKFLOW_STATUSES,
  resolvedByTrailguard,
  SECURITY_CONTROL_ID,
  type SecurityHubUpdate,
  TRAIL_RESOURCE_TYPE,
  UPDATE_BATCH_MAX,
} from '../domain/security-hub.js';
import type { AwsClients } from './clients.js';
import { sdk } from './sdk.js';

/** A Security Hub call failed. The run records it (best effort) and its outcome stands. */
export class SecurityHubError extends TrailguardError {
  override name = 'SecurityHubError';
}

/** Security Hub is not enabled in the account and region (`InvalidAccessException`): nothing to update. */
export class SecurityHubNotEnabledError extends TrailguardError {
  override name = 'SecurityHubNotEnabledError';
}

/** What GetFindings answers when the account is not subscribed to Security Hub in that region. */
const NOT_ENABLED = new Set(['InvalidAccessException']);

function failed(what: string, error: unknown): Error {
  const name = awsErrorName(error) ?? 'Error';
  const message = `${what} failed: ${name}: ${error instanceof Error ? error.message : String(error)}`.slice(
    0,
    1000,
  );
  return NOT_ENABLED.has(name)
    ? new SecurityHubNotEnabledError(message, { cause: error })
    : new SecurityHubError(message, { cause: error });
}

/**
 * Attempts of one Security Hub call on a transient error (throttling, 5xx, timeout). The workflow does not
 * retry this best-effort step (its errors are recorded, not thrown), so the step retries a few times itself,
 * with a short backoff, before recording the error.
 */
export const SECURITY_HUB_ATTEMPTS = 4;
const BACKOFF_MS = 200;

async function withRetries<T>(call: () => Promise<T>, sleep = defaultSleep): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= SECURITY_HUB_ATTEMPTS || !isTransient(error)) throw error;
      await sleep(BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The GetFindings filters every query here starts from: the trail's active CloudTrail.5 findings. */
function activeControlFindingFilters(trailArn: string): NonNullable<GetFindingsCommandInput['Filters']> {
  return {
    ResourceId: [{ Value: trailArn, Comparison: 'EQUALS' }],
    ResourceType: [{ Value: TRAIL_RESOURCE_TYPE, Comparison: 'EQUALS' }],
    ComplianceSecurityControlId: [{ Value: SECURITY_CONTROL_ID, Comparison: 'EQUALS' }],
    RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
  };
}

/** The GetFindings filters for a trail's open, failed CloudTrail.5 findings. */
export function controlFindingFilters(trailArn: string): GetFindingsCommandInput['Filters'] {
  return {
    ...activeControlFindingFilters(trailArn),
    ComplianceStatus: [{ Value: 'FAILED', Comparison: 'EQUALS' }],
    WorkflowStatus: OPEN_WORKFLOW_STATUSES.map((status) => ({ Value: status, Comparison: 'EQUALS' })),
  };
}

/**
 * The trail's CloudTrail.5 findings in `region` that a run updates, in one GetFindings query: its open, failed
 * findings, and, with `resolved`, the active ones trailguard RESOLVED (its note is the last), which a run of a
 * trail that fails again re-opens. One query instead of one per kind: a run makes one GetFindings call.
 * "CONTAINS, EQUALS, and PREFIX filters on the same field are joined by OR" (Security Hub API Reference,
 * StringFilter, https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StringFilter.html), so the
 * WorkflowStatus values select either kind; fields are ANDed, and ComplianceStatus is left out (a resolved finding
 * may read PASSED): each finding is sorted by the same predicates the two queries used.
 */
export async function findTrailFindings(
  clients: AwsClients,
  region: string,
  trailArn: string,
  options: { resolved: boolean },
): Promise<{ open: AsffFinding[]; resolvedByTrailguard: AsffFinding[] }> {
  const isResolved = (f: AsffFinding) =>
    options.resolved &&
    controlIdOf(f) === SECURITY_CONTROL_ID &&
    f.RecordState === 'ACTIVE' &&
    resolvedByTrailguard(f);
  const filters = options.resolved
    ? {
        ...activeControlFindingFilters(trailArn),
        WorkflowStatus: [...OPEN_WORKFLOW_STATUSES, 'RESOLVED'].map((status) => ({
          Value: status,
          Comparison: 'EQUALS' as const,
        })),
      }
    : controlFindingFilters(trailArn);
  const found = await queryFindings(
    clients,
    region,
    trailArn,
    filters,
    (f) => isOpenFailedControlFinding(f) || isResolved(f),
  );
  return { open: found.filter(isOpenFailedControlFinding), resolvedByTrailguard: found.filter(isResolved) };
}

async function queryFindings(
  clients: AwsClients,
  region: string,
  trailArn: string,
  filters: GetFindingsCommandInput['Filters'],
  keep: (finding: AsffFinding) => boolean,
): Promise<AsffFinding[]> {
  const out: AsffFinding[] = [];
  const { GetFindingsCommand } = sdk.securityHub();
  try {
    const client = clients.securityHub(region);
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await withRetries(() =>
        client.send(
          new GetFindingsCommand({
            Filters: filters,
            MaxResults: 100,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      nextToken = page.NextToken || undefined;
      for (const raw of page.Findings ?? []) {
        const parsed = asffFindingSchema().safeParse(raw);
        if (!parsed.success) continue;
        const finding = parsed.data;
        if (!keep(finding)) continue;
        if (!finding.Resources.some((r) => r.Type === TRAIL_RESOURCE_TYPE && r.Id === trailArn)) continue;
        out.push(finding);
      }
    } while (nextToken);
  } catch (error) {
    throw failed(`GetFindings (${SECURITY_CONTROL_ID}, ${trailArn})`, error);
  }
  return out;
}

/**
 * Applies the plan (note, and a workflow status) to the findings of `trailArn`; returns what Security Hub did.
 * Refuses (FindingOutOfScopeError, before any call) when a finding is not a CloudTrail.5 finding of that trail.
 */
export async function updateControlFindings(
  clients: AwsClients,
  region: string,
  trailArn: string,
  findings: readonly AsffFinding[],
  plan: FindingsUpdatePlan,
): Promise<Pick<SecurityHubUpdate, 'findings' | 'unprocessed'>> {
  assertFindingsInScope(findings, trailArn);
  const { BatchUpdateFindingsCommand } = sdk.securityHub();
  const updated: { id: string; productArn: string }[] = [];
  const unprocessed: NonNullable<SecurityHubUpdate['unprocessed']> = [];
  for (let i = 0; i < findings.length; i += UPDATE_BATCH_MAX) {
    const batch = findings.slice(i, i + UPDATE_BATCH_MAX);
    let answer: BatchUpdateFindingsCommandOutput;
    try {
      answer = await withRetries(() =>
        clients.securityHub(region).send(
          new BatchUpdateFindingsCommand({
            FindingIdentifiers: batch.map((f) => ({ Id: f.Id, ProductArn: f.ProductArn })),
            Note: { Text: plan.note, UpdatedBy: NOTE_AUTHOR },
            ...(plan.workflowStatus ? { Workflow: { Status: plan.workflowStatus } } : {}),
          }),
        ),
      );
    } catch (error) {
      throw failed(`BatchUpdateFindings (${batch.length} finding(s))`, error);
    }
    const rejected = new Set<string>();
    for (const u of answer.UnprocessedFindings ?? []) {
      const id = u.FindingIdentifier?.Id ?? 'unknown';
      rejected.add(id);
      unprocessed.push({
        id,
        ...(u.ErrorCode ? { errorCode: u.ErrorCode } : {}),
        ...(u.ErrorMessage ? { errorMessage: u.ErrorMessage } : {}),
      });
    }
    for (const f of batch) if (!rejected.has(f.Id)) updated.push({ id: f.Id, productArn: f.ProductArn });
  }
  return { findings: updated, ...(unprocessed.length ? { unprocessed } : {}) };
}
