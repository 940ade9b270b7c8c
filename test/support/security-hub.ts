/**
 * Security Hub for tests: real-shaped CloudTrail.5 control findings (ASFF, consolidated control findings, as
 * the Security Hub user guide's "Samples of control findings" show them) and the "Security Hub Findings -
 * Imported" events EventBridge delivers for them, in ACCOUNT and REGION.
 *
 * moto models BatchImportFindings and GetFindings (it ignores GetFindings' filters) but not
 * BatchUpdateFindings: `withBatchUpdateFindings` mocks that one call on the product's Security Hub client
 * (aws-sdk-client-mock), applies the update to the finding moto holds (re-imported with the new workflow
 * status and note, as Security Hub would show it) and records each request; GetFindings goes to moto, and its
 * requests are recorded so a test can check the filters moto ignores.
 */
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandInput,
  GetFindingsCommand,
  type GetFindingsCommandInput,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../services/aws/clients.js';
import { ACCOUNT, currentCredentials, REGION } from './aws.js';

export type Finding = Record<string, unknown> & { Id: string; ProductArn: string };

let counter = 0;

export const trailArnOf = (name: string, region = REGION) =>
  `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`;

/** A CloudTrail.5 control finding about a trail; `overrides` replace top-level fields. */
export function controlFinding(
  trailArn: string,
  overrides: Partial<{
    status: string;
    workflow: string;
    recordState: string;
    control: string;
    updatedAt: string;
    id: string;
  }> = {},
): Finding {
  counter += 1;
  const control = overrides.control ?? 'CloudTrail.5';
  const id =
    overrides.id ??
    `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/${control}/finding/0b6c0e2a-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  const at = overrides.updatedAt ?? '2026-11-29T10:00:00.000Z';
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: `arn:aws:securityhub:${REGION}::product/aws/securityhub`,
    ProductName: 'Security Hub',
    CompanyName: 'AWS',
    Region: REGION,
    GeneratorId: `security-control/${control}`,
    AwsAccountId: ACCOUNT,
    Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
    FirstObservedAt: '2026-11-28T10:00:00.000Z',
    LastObservedAt: at,
    CreatedAt: '2026-11-28T10:00:00.000Z',
    UpdatedAt: at,
    Severity: { Label: 'LOW', Normalized: 1, Original: 'LOW' },
    Title: 'CloudTrail trails should be integrated with Amazon CloudWatch Logs',
    Description:
      'This control checks whether CloudTrail trails are configured to send logs to CloudWatch Logs.',
    Remediation: {
      Recommendation: {
        Text: 'For information on how to correct this issue, consult the AWS Security Hub controls documentation.',
        Url: `https://docs.aws.amazon.com/console/securityhub/${control}/remediation`,
      },
    },
    ProductFields: {
      'RelatedAWSResources:0/name': 'securityhub-cloud-trail-cloud-watch-logs-enabled-abc123',
      'RelatedAWSResources:0/type': 'AWS::Config::ConfigRule',
      'aws/securityhub/ProductName': 'Security Hub',
      'aws/securityhub/CompanyName': 'AWS',
      'Resources:0/Id': trailArn,
      'aws/securityhub/FindingId': id,
    },
    Resources: [{ Type: 'AwsCloudTrailTrail', Id: trailArn, Partition: 'aws', Region: REGION }],
    Compliance: {
      Status: overrides.status ?? 'FAILED',
      SecurityControlId: control,
      AssociatedStandards: [
        { StandardsId: 'standards/aws-foundational-security-best-practices/v/1.0.0' },
        { StandardsId: 'ruleset/cis-aws-foundations-benchmark/v/1.2.0' },
      ],
    },
    WorkflowState: 'NEW',
    Workflow: { Status: overrides.workflow ?? 'NEW' },
    RecordState: overrides.recordState ?? 'ACTIVE',
  };
}

/** The EventBridge event for a finding, as Security Hub sends it (one finding per event). */
export function findingsEvent(
  finding: Finding,
  id = `f7e3a6b0-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
) {
  return {
    version: '0',
    id,
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: '2026-11-29T10:00:05Z',
    region: REGION,
    resources: [finding.Id],
    detail: { findings: [finding] },
  };
}

function realClient(): SecurityHubClient {
  return new SecurityHubClient({ region: REGION, credentials: currentCredentials, maxAttempts: 1 });
}

/** Holds the findings in moto (BatchImportFindings). */
export async function importFindings(...findings: Finding[]): Promise<void> {
  const out = await realClient().send(new BatchImportFindingsCommand({ Findings: findings as never }));
  if (out.FailedCount) throw new Error(`BatchImportFindings failed: ${JSON.stringify(out.FailedFindings)}`);
}

/** Every finding moto holds, by id. */
export async function heldFindings(): Promise<Map<string, Finding>> {
  const out = await realClient().send(new GetFindingsCommand({}));
  return new Map((out.Findings ?? []).map((f) => [f.Id ?? '', f as unknown as Finding]));
}

export interface BatchUpdateMock {
  /** Every BatchUpdateFindings request the product made. */
  requests: BatchUpdateFindingsCommandInput[];
  /** Every GetFindings request the product sent, in order. */
  queries: GetFindingsCommandInput[];
  restore(): void;
}

/**
 * Mocks BatchUpdateFindings (which moto lacks) on the product's Security Hub client for REGION: GetFindings
 * goes to moto; a BatchUpdateFindings request is recorded and applied to moto's copy of each finding.
 * `fail` makes it throw that error instead.
 */
export function withBatchUpdateFindings(
  clients: AwsClients,
  options: { fail?: Error; unprocessed?: { ErrorCode: string; ErrorMessage: string } } = {},
): BatchUpdateMock {
  const real = realClient();
  const mock = mockClient(clients.securityHub(REGION));
  const requests: BatchUpdateFindingsCommandInput[] = [];
  const queries: GetFindingsCommandInput[] = [];
  mock.on(GetFindingsCommand).callsFake((input: GetFindingsCommandInput) => {
    queries.push(input);
    return real.send(new GetFindingsCommand(input));
  });
  mock.on(BatchUpdateFindingsCommand).callsFake(async (input: BatchUpdateFindingsCommandInput) => {
    requests.push(input);
    if (options.fail) throw options.fail;
    if (options.unprocessed) {
      // Security Hub answers 200 and lists the findings it did not update.
      return {
        ProcessedFindings: [],
        UnprocessedFindings: (input.FindingIdentifiers ?? []).map((ref) => ({
          FindingIdentifier: ref,
          ...options.unprocessed,
        })),
      };
    }
    const held = await heldFindings();
    const updated = (input.FindingIdentifiers ?? []).map((ref) => {
      const finding = held.get(ref.Id ?? '');
      if (!finding) throw new Error(`no finding ${ref.Id}`);
      return {
        ...finding,
        ...(input.Workflow?.Status ? { Workflow: { Status: input.Workflow.Status } } : {}),
        ...(input.Note ? { Note: { ...input.Note, UpdatedAt: '2026-11-29T10:05:00.000Z' } } : {}),
      } as Finding;
    });
    await importFindings(...updated);
    return { ProcessedFindings: input.FindingIdentifiers ?? [], UnprocessedFindings: [] };
  });
  return { requests, queries, restore: () => mock.restore() };
}
