/**
 * CloudWatch Logs deletion protection, emulated at the SDK layer for tests: moto 5.2.1 has no
 * PutLogGroupDeletionProtection and reports no `deletionProtectionEnabled`. Added to a client (createClients'
 * `onCreate`), this middleware answers what moto cannot, as CloudWatch Logs documents it ("Protecting log groups
 * from deletion"; API Reference, PutLogGroupDeletionProtection, DescribeLogGroups):
 * - PutLogGroupDeletionProtection records the setting (the group must exist: ResourceNotFoundException otherwise)
 *   and answers an empty 200, without reaching moto;
 * - DescribeLogGroups answers each group's `deletionProtectionEnabled` (false unless recorded true);
 * - DeleteLogGroup of a protected group fails with ValidationException "Cannot delete log group with deletion
 *   protection enabled. Disable deletion protection first." and reaches nothing.
 * Every other call goes to moto untouched. Tests that use it say so in their names. State is per instance: one
 * instance per test (a reset of the emulator forgets groups, so a new instance goes with it).
 */
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';
import { type AwsClients, type ClientOptions, createClients } from '../../services/aws/clients.js';
import { currentCredentials, REGION } from './aws.js';
import type { SdkClient } from './faults.js';

function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 },
  });
}

export class DeletionProtectionEmulation {
  /** `<region>/<log group name>` -> protected. */
  private readonly settings = new Map<string, boolean>();
  /** Every PutLogGroupDeletionProtection call: region, group, value. */
  readonly puts: { region: string; logGroup: string; enabled: boolean }[] = [];
  /**
   * When set, PutLogGroupDeletionProtection is refused with AccessDeniedException and this message (e.g. an SCP's
   * explicit deny, in the format of IAM's "Troubleshoot access denied error messages"), as AWS would answer it.
   */
  denyWith: string | undefined;

  isProtected(region: string, logGroup: string): boolean {
    return this.settings.get(`${region}/${logGroup}`) === true;
  }

  /** Marks a group protected, as if someone had turned protection on. */
  protect(region: string, logGroup: string, enabled = true): void {
    this.settings.set(`${region}/${logGroup}`, enabled);
  }

  /** Pass to createClients (or call from another onCreate): adds the middleware to CloudWatch Logs clients. */
  readonly onCreate = (client: SdkClient): void => {
    const stack = client.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>;
    stack.add(this.middleware(client), {
      step: 'initialize',
      name: 'trailguardDeletionProtectionEmulation',
      priority: 'low',
      override: true,
    });
  };

  private middleware(client: SdkClient): InitializeMiddleware<object, MetadataBearer> {
    const regionOf = async (): Promise<string> => {
      const value: unknown = (client.config as { region?: unknown }).region;
      return typeof value === 'function' ? String(await value()) : String(value);
    };
    return (next, context) => async (args) => {
      if (context.clientName !== 'CloudWatchLogsClient') return next(args);
      const input = args.input as Record<string, unknown>;
      const region = await regionOf();
      switch (context.commandName) {
        case 'PutLogGroupDeletionProtectionCommand': {
          if (this.denyWith) throw sdkError('AccessDeniedException', this.denyWith);
          const name = String(input.logGroupIdentifier).replace(/^arn:.*:log-group:([^:]+)(:\*)?$/, '$1');
          const found = await (client as unknown as { send: (c: unknown) => Promise<unknown> }).send(
            new DescribeLogGroupsCommand({ logGroupNamePrefix: name }),
          );
          const groups = (found as { logGroups?: { logGroupName?: string }[] }).logGroups ?? [];
          if (!groups.some((g) => g.logGroupName === name)) {
            throw sdkError('ResourceNotFoundException', 'The specified log group does not exist.');
          }
          const enabled = input.deletionProtectionEnabled === true;
          this.settings.set(`${region}/${name}`, enabled);
          this.puts.push({ region, logGroup: name, enabled });
          return { output: { $metadata: { httpStatusCode: 200 } }, response: {} } as never;
        }
        case 'DeleteLogGroupCommand':
          if (this.isProtected(region, String(input.logGroupName))) {
            throw sdkError(
              'ValidationException',
              'Cannot delete log group with deletion protection enabled. Disable deletion protection first.',
            );
          }
          return next(args);
        case 'DescribeLogGroupsCommand': {
          const out = await next(args);
          const page = out.output as {
            logGroups?: { logGroupName?: string; deletionProtectionEnabled?: boolean }[];
          };
          for (const group of page.logGroups ?? []) {
            group.deletionProtectionEnabled = this.isProtected(region, group.logGroupName ?? '');
          }
          return out;
        }
        default:
          return next(args);
      }
    };
  }

  /** Test clients (the test account's credentials) with the emulation, and any other onCreate hook. */
  clients(options: ClientOptions = {}): AwsClients {
    const other = options.onCreate;
    return createClients({
      defaultRegion: REGION,
      maxAttempts: 1,
      credentials: currentCredentials,
      ...options,
      onCreate: (client) => {
        other?.(client);
        this.onCreate(client);
      },
    });
  }
}
