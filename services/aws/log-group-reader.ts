/** Reads one log group by exact name (CloudWatch Logs only). */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { LogGroupState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { read } from './read.js';

export async function readLogGroup(
  clients: AwsClients,
  region: string,
  name: string,
): Promise<LogGroupState> {
  return read(`DescribeLogGroups ${name}`, async () => {
    const logs = clients.logs(region);
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }));
      const group = page.logGroups?.find((g) => g.logGroupName === name);
      if (group) {
        return {
          name,
          exists: true,
          ...(group.retentionInDays !== undefined ? { retentionInDays: group.retentionInDays } : {}),
          ...(group.kmsKeyId ? { kmsKeyId: group.kmsKeyId } : {}),
          ...(group.deletionProtectionEnabled !== undefined
            ? { deletionProtectionEnabled: group.deletionProtectionEnabled }
            : {}),
        };
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return { name, exists: false };
  });
}
