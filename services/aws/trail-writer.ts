/**
 * Points a trail at its delivery log group and role and makes sure it logs. Given the trail's settings and
 * status as Check read them, it calls UpdateTrail (both ARNs together) only when either differs and
 * StartLogging only when the trail was not logging. Both calls are idempotent (setting the same ARNs again,
 * starting a trail that logs), so a retry or a concurrent run does no harm, and no read is repeated here:
 * Verify re-reads everything afterwards. Calls are made by trail name in the home region, the only place a
 * trail can be changed.
 *
 * CloudTrail checks that it can assume the role when UpdateTrail is called. A role created or repaired a
 * moment ago may still be rejected ("Access denied"); the trust policy is then re-read: if it is right the
 * failure is IAM propagation (IamPropagationPendingError, retried by the workflow), else RoleTrustError.
 */
import { StartLoggingCommand, UpdateTrailCommand } from '@aws-sdk/client-cloudtrail';
import { refuseControlTowerWrite } from '../domain/control-tower.js';
import {
  awsErrorName,
  IamPropagationPendingError,
  RemediationError,
  RoleTrustError,
} from '../domain/errors.js';
import { trustsCloudTrail } from '../domain/policy-eval.js';
import type { AwsClients } from './clients.js';
import { readRole } from './role-reader.js';
import { type Write, write, writeError } from './write-errors.js';

export interface TrailSpec {
  name: string;
  trailArn: string;
  homeRegion: string;
  account: string;
  /** The `:*` form CloudTrail requires. */
  logGroupArn: string;
  roleArn: string;
  roleName: string;
  /** The trail's settings and status as Check read them. */
  current: { logGroupArn?: string | undefined; roleArn?: string | undefined; isLogging: boolean };
}

/** Whether CloudTrail refused the role (or could not use it to reach the log group). */
export function isRoleRejection(error: unknown): boolean {
  const name = awsErrorName(error);
  if (name === 'InvalidCloudWatchLogsRoleArnException') return true;
  if (name === 'InvalidCloudWatchLogsLogGroupArnException') {
    const message = error instanceof Error ? error.message : '';
    return /access|assume/i.test(message);
  }
  return false;
}

async function classifyRoleRejection(clients: AwsClients, spec: TrailSpec, error: unknown): Promise<Error> {
  const role = await readRole(clients, spec.roleName, spec.roleArn);
  const detail = error instanceof Error ? error.message : String(awsErrorName(error));
  if (role.exists && trustsCloudTrail(role.trustPolicy)) {
    return new IamPropagationPendingError(
      `CloudTrail rejected role ${spec.roleArn} for trail ${spec.name} although its trust policy lets CloudTrail assume it: IAM has not propagated it yet (${detail})`,
      { cause: error },
    );
  }
  return new RoleTrustError(
    role.exists
      ? `CloudTrail rejected role ${spec.roleArn} for trail ${spec.name}: its trust policy does not let cloudtrail.amazonaws.com assume it (${detail})`
      : `CloudTrail rejected role ${spec.roleArn} for trail ${spec.name}: the role does not exist (${detail})`,
    { cause: error },
  );
}

export async function ensureTrailIntegration(clients: AwsClients, spec: TrailSpec): Promise<Write[]> {
  // Control Tower's trail, or any trail pointed at its log group: never written (services/domain/control-tower.ts).
  refuseControlTowerWrite({ trail: spec.name, logGroup: spec.logGroupArn }, 'UpdateTrail');
  if (spec.current.logGroupArn)
    refuseControlTowerWrite({ logGroup: spec.current.logGroupArn }, 'UpdateTrail');
  const writes: Write[] = [];
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(spec.homeRegion)) {
    throw new RemediationError(`trail ${spec.name} has no valid home region to call CloudTrail in`);
  }
  const cloudTrail = clients.cloudTrail(spec.homeRegion);
  const { current } = spec;

  if (current.logGroupArn !== spec.logGroupArn || current.roleArn !== spec.roleArn) {
    try {
      await cloudTrail.send(
        new UpdateTrailCommand({
          Name: spec.name,
          CloudWatchLogsLogGroupArn: spec.logGroupArn,
          CloudWatchLogsRoleArn: spec.roleArn,
        }),
      );
    } catch (error) {
      if (isRoleRejection(error)) throw await classifyRoleRejection(clients, spec, error);
      throw writeError(`UpdateTrail ${spec.name}`, error);
    }
    writes.push({
      api: 'UpdateTrail',
      resource: spec.trailArn,
      detail: `set CloudWatchLogsLogGroupArn ${spec.logGroupArn} (was ${current.logGroupArn ?? 'none'}) and CloudWatchLogsRoleArn ${spec.roleArn} (was ${current.roleArn ?? 'none'})`,
    });
  }

  if (!current.isLogging) {
    await write(`StartLogging ${spec.name}`, () =>
      cloudTrail.send(new StartLoggingCommand({ Name: spec.name })),
    );
    writes.push({ api: 'StartLogging', resource: spec.trailArn, detail: 'started logging' });
  }
  return writes;
}
