/**
 * The preventive SCP through AWS Organizations (config.preventive; policies/scp.ts builds its document):
 * `local-setup` creates it and attaches it to the configured targets on the emulator; `check` reads whether it is
 * attached to each target. Organizations API reference: EnablePolicyType (a policy type must be enabled on the
 * root before a policy of it can be created), CreatePolicy, UpdatePolicy, AttachPolicy, ListTargetsForPolicy,
 * ListPolicies, DescribeOrganization. Only the management account, or a delegated administrator for Organizations
 * policies, may call them; AWS Organizations User Guide, "Service control policies (SCPs)": SCPs never bind the
 * management account.
 */

import { awsErrorName } from '../domain/errors.js';
import type { AwsClients } from './clients.js';

const SCP_TYPE = 'SERVICE_CONTROL_POLICY';

type Organizations = typeof import('@aws-sdk/client-organizations');
const sdk = (): Promise<Organizations> => import('@aws-sdk/client-organizations');

export type ScpStatus = 'created' | 'exists' | 'updated';

export class PreventiveScpError extends Error {
  override readonly name = 'PreventiveScpError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Enables the SCP policy type on the organization's root if it is not: `enabled`, or `exists`. */
export async function ensureScpPolicyType(
  clients: AwsClients,
): Promise<{ rootId: string; status: 'enabled' | 'exists' }> {
  const { ListRootsCommand, EnablePolicyTypeCommand } = await sdk();
  const { Roots } = await clients.organizations().send(new ListRootsCommand({}));
  const root = Roots?.[0];
  if (!root?.Id) throw new PreventiveScpError('Organizations ListRoots returned no root');
  if (root.PolicyTypes?.some((t) => t.Type === SCP_TYPE && t.Status === 'ENABLED')) {
    return { rootId: root.Id, status: 'exists' };
  }
  try {
    await clients
      .organizations()
      .send(new EnablePolicyTypeCommand({ RootId: root.Id, PolicyType: SCP_TYPE }));
  } catch (error) {
    if (awsErrorName(error) !== 'PolicyTypeAlreadyEnabledException') throw error;
    return { rootId: root.Id, status: 'exists' };
  }
  return { rootId: root.Id, status: 'enabled' };
}

/** The id of the SCP named `name`, if there is one. */
export async function findScp(clients: AwsClients, name: string): Promise<string | undefined> {
  const { paginateListPolicies } = await sdk();
  for await (const page of paginateListPolicies({ client: clients.organizations() }, { Filter: SCP_TYPE })) {
    const found = page.Policies?.find((p) => p.Name === name);
    if (found?.Id) return found.Id;
  }
  return undefined;
}

/** Creates the SCP `name` with `content`, or brings an existing one's content to it. Idempotent. */
export async function ensureScp(
  clients: AwsClients,
  p: { name: string; description: string; content: string },
): Promise<{ policyId: string; status: ScpStatus }> {
  const { CreatePolicyCommand, DescribePolicyCommand, UpdatePolicyCommand } = await sdk();
  const existing = await findScp(clients, p.name);
  if (existing) {
    const { Policy } = await clients.organizations().send(new DescribePolicyCommand({ PolicyId: existing }));
    if (Policy?.Content === p.content) return { policyId: existing, status: 'exists' };
    await clients.organizations().send(new UpdatePolicyCommand({ PolicyId: existing, Content: p.content }));
    return { policyId: existing, status: 'updated' };
  }
  const { Policy } = await clients.organizations().send(
    new CreatePolicyCommand({
      Name: p.name,
      Description: p.description,
      Type: SCP_TYPE,
      Content: p.content,
    }),
  );
  const policyId = Policy?.PolicySummary?.Id;
  if (!policyId) throw new PreventiveScpError(`Organizations CreatePolicy returned no id for ${p.name}`);
  return { policyId, status: 'created' };
}

/** The targets (roots, OUs, accounts) the policy is attached to. */
export async function scpTargets(clients: AwsClients, policyId: string): Promise<string[]> {
  const { paginateListTargetsForPolicy } = await sdk();
  const targets: string[] = [];
  for await (const page of paginateListTargetsForPolicy(
    { client: clients.organizations() },
    { PolicyId: policyId },
  )) {
    for (const t of page.Targets ?? []) if (t.TargetId) targets.push(t.TargetId);
  }
  return targets;
}

/** Attaches the policy to `targetId` unless it already is: `attached`, or `exists`. */
export async function ensureScpAttached(
  clients: AwsClients,
  policyId: string,
  targetId: string,
): Promise<'attached' | 'exists'> {
  const { AttachPolicyCommand } = await sdk();
  if ((await scpTargets(clients, policyId)).includes(targetId)) return 'exists';
  try {
    await clients.organizations().send(new AttachPolicyCommand({ PolicyId: policyId, TargetId: targetId }));
  } catch (error) {
    if (awsErrorName(error) !== 'DuplicatePolicyAttachmentException') throw error;
    return 'exists';
  }
  return 'attached';
}

/** What `check` reports about the preventive SCP. */
export interface PreventiveScpReport {
  policyName: string;
  /** Absent when no SCP of that name exists. */
  policyId?: string;
  /** Each configured target, and whether the SCP is attached to it. */
  targets: { targetId: string; attached: boolean }[];
  /** The organization's management account, which no SCP binds. */
  managementAccount?: string;
  /** Why Organizations could not be read (the caller is neither the management account nor a delegated admin). */
  error?: { name: string; message: string };
}

/** Reads whether the SCP `name` exists and is attached to each of `targets`. */
export async function readPreventiveScp(
  clients: AwsClients,
  name: string,
  targets: readonly string[],
): Promise<PreventiveScpReport> {
  const { DescribeOrganizationCommand } = await sdk();
  try {
    const { Organization } = await clients.organizations().send(new DescribeOrganizationCommand({}));
    const managementAccount = Organization?.MasterAccountId;
    const policyId = await findScp(clients, name);
    const attached = policyId ? await scpTargets(clients, policyId) : [];
    return {
      policyName: name,
      ...(policyId ? { policyId } : {}),
      targets: targets.map((targetId) => ({ targetId, attached: attached.includes(targetId) })),
      ...(managementAccount ? { managementAccount } : {}),
    };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return {
      policyName: name,
      targets: targets.map((targetId) => ({ targetId, attached: false })),
      error: { name: awsErrorName(error) ?? e.name, message: e.message },
    };
  }
}
