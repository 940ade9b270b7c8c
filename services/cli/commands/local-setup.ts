/**
 * `trailguard local-setup`: creates, idempotently, on whatever AWS_ENDPOINT_URL points to (the local emulator):
 * - in the caller's account and the hub region (config.hubRegion, else --region, else the SDK's region): the
 *   notification topic and the tables (audit, Notify's idempotency, state: log group snapshots and
 *   delivery-error sightings) under the names the other commands use by default;
 * - with a configuration that guards other accounts (`accounts`: a list, or `"organization"`: Organizations
 *   ListAccounts), in each of them the member roles the hub assumes (policies/iam.ts MEMBER_ROLES, named from
 *   config.remediationRoleName: `-read`, `-log-group`, `-role`, `-trail`, `-findings`), trusting the hub's
 *   account, each with its own member-side permissions (the spoke's remediationRolePolicy) for that account. Each
 *   account is
 *   reached with sts:AssumeRole into its bootstrap role (`--bootstrap-role`, default
 *   OrganizationAccountAccessRole, the role Organizations creates in the accounts it creates).
 * - with config.preventive.scp (an organization hub), in the organization (the caller must be its management
 *   account): the SCP policy type enabled on the root, the preventive SCP (policies/scp.ts, named
 *   PREVENTIVE_SCP_NAME) created or brought up to date, and attached to each of config.preventive.targets. The
 *   local hub acts in its own account with the caller's credentials, which no SCP binds (the management account),
 *   so only the member roles and the break-glass roles are exempt here.
 * One line per account and resource: created, exists or updated (failed, with the reason, for an account that
 * cannot be reached; the other accounts are still set up and the command exits 3).
 */
import type { Command } from 'commander';
import { type Config, localIdempotencyTableName, parseConfig } from '../../../policies/config.js';
import {
  MEMBER_ROLES,
  type MemberRole,
  memberRoleName,
  type PolicyStatement,
  remediationRolePolicy,
} from '../../../policies/iam.js';
import {
  PREVENTIVE_SCP_DESCRIPTION,
  PREVENTIVE_SCP_NAME,
  preventiveScpDocument,
  scpContent,
} from '../../../policies/scp.js';
import { clientsAssumingRole } from '../../aws/accounts.js';
import { ensureAuditTable } from '../../aws/audit-store.js';
import { type AwsClients, createClients, resolveDefaultRegion } from '../../aws/clients.js';
import { MANAGED_TAG_KEY, MANAGED_TAG_VALUE } from '../../aws/managed-tags.js';
import { ensureTopic } from '../../aws/notifier.js';
import { ensureIdempotencyTable } from '../../aws/notify-once.js';
import { ensureScp, ensureScpAttached, ensureScpPolicyType } from '../../aws/preventive-scp.js';
import { ensureStateTable, localStateTableName } from '../../aws/state-store.js';
import { decodePolicy } from '../../aws/trail-reader.js';
import { isAlreadyExists } from '../../aws/write-errors.js';
import { roleArn as arnOfRole, partitionOf } from '../../domain/arns.js';
import { awsErrorName } from '../../domain/errors.js';
import { guardedAccounts, guardsOtherAccounts, resolveHub } from '../../local/organization.js';
import { type CliIo, EXIT, formatTable, setExitCode, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';

/** The role Organizations creates in every account it creates, trusted by the management account. */
export const DEFAULT_BOOTSTRAP_ROLE = 'OrganizationAccountAccessRole';
/** Each member role's one inline policy. */
export const REMEDIATION_POLICY_NAME = 'trailguard-remediation';

/**
 * Member role `role`'s permissions in `account`: what the spoke gives it (policies/iam.ts remediationRolePolicy),
 * resolved for that account; CIS alarms notify the configured topic, else the hub's. The hub's topic and tables
 * are written with the hub's own credentials, never through these roles.
 */
export function memberPolicy(
  config: Config,
  account: string,
  hub: { account: string; region: string },
  role: MemberRole,
): { Version: '2012-10-17'; Statement: PolicyStatement[] } {
  const partition = partitionOf(hub.region);
  const statements = remediationRolePolicy(
    {
      partition,
      account,
      region: hub.region,
      config,
      ...(config.cisMonitoring
        ? {
            cisAlarmTopicArn:
              config.cisAlarmTopicArn ??
              `arn:${partition}:sns:${hub.region}:${hub.account}:${config.notificationTopicName}`,
          }
        : {}),
    },
    role,
  );
  return { Version: '2012-10-17', Statement: statements };
}

/** Each member role's trust: the hub's account (the emulator's stand-in for the hub's function roles). */
export function memberTrust(hubAccount: string, partition: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${hubAccount}:root` },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

type Status = 'created' | 'exists' | 'updated';

/** Same policy, whatever the key order or encoding IAM returns it in. */
const canonical = (document: unknown) => JSON.stringify(sortKeys(document));
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sortKeys(v)]),
  );
}

/**
 * Creates the remediation role (tagged as trailguard's) or brings an existing one's trust and inline policy to
 * what they must be. Idempotent: a second run changes nothing and reports `exists`.
 */
export async function ensureRemediationRole(
  clients: AwsClients,
  p: { account: string; hubAccount: string; partition: string; roleName: string; policy: object },
): Promise<{ roleArn: string; role: Status; policy: Status }> {
  const iam = await import('@aws-sdk/client-iam');
  const client = clients.iam();
  const trust = memberTrust(p.hubAccount, p.partition);
  const roleArn = arnOfRole({ partition: p.partition, account: p.account, name: p.roleName });
  let role: Status = 'created';
  try {
    await client.send(
      new iam.CreateRoleCommand({
        RoleName: p.roleName,
        AssumeRolePolicyDocument: JSON.stringify(trust),
        Description:
          "trailguard's hub acts in this account through this role (created by trailguard local-setup)",
        Tags: [{ Key: MANAGED_TAG_KEY, Value: MANAGED_TAG_VALUE }],
      }),
    );
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    const { Role } = await client.send(new iam.GetRoleCommand({ RoleName: p.roleName }));
    role = 'exists';
    if (canonical(decodePolicy(Role?.AssumeRolePolicyDocument)) !== canonical(trust)) {
      await client.send(
        new iam.UpdateAssumeRolePolicyCommand({
          RoleName: p.roleName,
          PolicyDocument: JSON.stringify(trust),
        }),
      );
      role = 'updated';
    }
  }
  let current: unknown;
  try {
    const out = await client.send(
      new iam.GetRolePolicyCommand({ RoleName: p.roleName, PolicyName: REMEDIATION_POLICY_NAME }),
    );
    current = decodePolicy(out.PolicyDocument);
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchEntity' && awsErrorName(error) !== 'NoSuchEntityException')
      throw error;
  }
  if (current !== undefined && canonical(current) === canonical(p.policy)) {
    return { roleArn, role, policy: 'exists' };
  }
  await client.send(
    new iam.PutRolePolicyCommand({
      RoleName: p.roleName,
      PolicyName: REMEDIATION_POLICY_NAME,
      PolicyDocument: JSON.stringify(p.policy),
    }),
  );
  return { roleArn, role, policy: current === undefined ? 'created' : 'updated' };
}

const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

export function registerLocalSetup(program: Command, io: CliIo): void {
  program
    .command('local-setup')
    .description(
      "Create the hub's notification topic and tables, and each guarded account's member roles, on the local emulator (idempotent).",
    )
    .option(
      '--region <region>',
      "the hub region when the configuration has no hubRegion (default: the SDK's region)",
    )
    .option(
      '--config <file>',
      'JSON configuration file (topic and table names; accounts, hubRegion, remediationRoleName)',
    )
    .option(
      '--bootstrap-role <name>',
      `the role assumed in each other account to create its member roles (default ${DEFAULT_BOOTSTRAP_ROLE})`,
    )
    .option(
      '--allow-real-aws',
      'allow running without AWS_ENDPOINT_URL (creates resources in a real account)',
    )
    .addHelpText(
      'after',
      '\nOne line per account and resource: created, exists or updated. An account that cannot be reached is reported\nas failed (exit 3); the others are still set up.',
    )
    .action(
      async (
        options: { region?: string; config?: string; bootstrapRole?: string; allowRealAws?: boolean },
        command: Command,
      ) => {
        const env = io.env ?? process.env;
        if (!env.AWS_ENDPOINT_URL && !options.allowRealAws) {
          throw new UsageError(
            'local-setup is for an emulator: set AWS_ENDPOINT_URL (e.g. http://127.0.0.1:5000), or pass --allow-real-aws',
          );
        }
        const bootstrapRole = options.bootstrapRole ?? DEFAULT_BOOTSTRAP_ROLE;
        if (!IAM_ROLE_NAME.test(bootstrapRole)) {
          throw new UsageError(`--bootstrap-role "${bootstrapRole}" is not an IAM role name`);
        }
        const config = options.config ? await loadConfigFile(options.config) : parseConfig({});
        const clients = createClients({
          defaultRegion: resolveDefaultRegion(
            config.hubRegion ?? options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
          ),
        });
        const hub = await resolveHub(config, clients);
        const rows: string[][] = [];
        const row = (status: string, account: string, kind: string, resource: string) =>
          rows.push([status, account, kind, resource]);

        const topic = await ensureTopic(clients, config.notificationTopicName);
        row(topic.created ? 'created' : 'exists', hub.account, 'SNS topic', topic.topicArn);
        for (const table of [
          await ensureAuditTable(clients, config.auditTableName),
          await ensureIdempotencyTable(clients, localIdempotencyTableName(config)),
          await ensureStateTable(clients, localStateTableName(config)),
        ]) {
          row(table.created ? 'created' : 'exists', hub.account, 'DynamoDB table', table.tableName);
        }

        let failed = 0;
        if (guardsOtherAccounts(config)) {
          const partition = partitionOf(hub.region);
          const members = (await guardedAccounts(config, hub)).filter((a) => a !== hub.account);
          for (const account of members) {
            try {
              const { clients: inAccount } = await clientsAssumingRole(
                clients,
                arnOfRole({ partition, account, name: bootstrapRole }),
                { sessionName: 'trailguard-local-setup', region: hub.region },
              );
              for (const role of MEMBER_ROLES) {
                const roleName = memberRoleName(config.remediationRoleName, role);
                const result = await ensureRemediationRole(inAccount, {
                  account,
                  hubAccount: hub.account,
                  partition,
                  roleName,
                  policy: memberPolicy(config, account, hub, role),
                });
                row(result.role, account, 'IAM role', result.roleArn);
                row(result.policy, account, 'IAM role policy', `${roleName}/${REMEDIATION_POLICY_NAME}`);
              }
            } catch (error) {
              failed += 1;
              const e = error as Error;
              row(
                'failed',
                account,
                'IAM role',
                `${config.remediationRoleName}-*: ${awsErrorName(error) ?? e.name}: ${e.message} (via ${bootstrapRole})`,
              );
            }
          }
        }
        const preventive = config.preventive;
        if (preventive?.scp) {
          try {
            const policyType = await ensureScpPolicyType(clients);
            row(
              policyType.status === 'enabled' ? 'created' : 'exists',
              hub.account,
              'SCP policy type',
              policyType.rootId,
            );
            const document = preventiveScpDocument({
              partition: partitionOf(hub.region),
              config: { ...config, preventive },
            });
            const policy = await ensureScp(clients, {
              name: PREVENTIVE_SCP_NAME,
              description: PREVENTIVE_SCP_DESCRIPTION,
              content: scpContent(document),
            });
            row(policy.status, hub.account, 'SCP', `${PREVENTIVE_SCP_NAME} (${policy.policyId})`);
            for (const target of preventive.targets) {
              const attached = await ensureScpAttached(clients, policy.policyId, target);
              row(
                attached === 'attached' ? 'created' : 'exists',
                hub.account,
                'SCP attachment',
                `${PREVENTIVE_SCP_NAME} -> ${target}`,
              );
            }
          } catch (error) {
            failed += 1;
            const e = error as Error;
            row(
              'failed',
              hub.account,
              'SCP',
              `${PREVENTIVE_SCP_NAME}: ${awsErrorName(error) ?? e.name}: ${e.message}`,
            );
          }
        }
        io.stdout.write(`${formatTable(['STATUS', 'ACCOUNT', 'RESOURCE', 'NAME'], rows)}\n`);
        if (failed > 0) setExitCode(command, EXIT.FAILED);
      },
    );
}
