/**
 * `trailguard uninstall --config F --dry-run`: what the uninstall of docs/operations.md ("Uninstall") removes and
 * what it keeps, per account and region, from the configuration (the deployment's shape: one account in one
 * region, one account in several regions, an organization). It reads nothing from AWS and changes nothing.
 * Without `--dry-run` it refuses (exit 2): removing a guardrail, and an organization's spokes with it, is done with
 * the documented commands, in their order, by a person who has read what they keep.
 */
import type { Command } from 'commander';
import { DEFAULT_STACK_NAME, SPOKE_STACK_NAME } from '../../../infra/stack-name.js';
import { type Config, parseConfig } from '../../../policies/config.js';
import { type CliIo, formatTable, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';

export interface UninstallItem {
  account: string;
  region: string;
  /** What goes (a stack, the StackSet's instance, the StackSet). */
  removes: string[];
  /** What stays, on purpose (docs/operations.md, "Uninstall": how to delete it). */
  keeps: string[];
  /** The command of docs/operations.md that does it. */
  how: string;
}

const HUB_REMOVES = [
  'functions, workflow and organization sweep state machines, rules, topic, idempotency table, queues, alarms, dashboard',
];
const HUB_KEEPS = [
  'audit table (AuditTableName; deletion protection)',
  'state table (StateTableName)',
  'data key',
  "functions' and state machines' log groups",
];
const MANAGED = 'delivery roles and log groups trailguard created (tagged trailguard:managed=true)';

/** The uninstall plan for the configuration's shape. `region`: a single account's region (no `regions`). */
export function uninstallPlan(
  config: Config,
  stackName: string,
  region: string | undefined,
): UninstallItem[] {
  const regions = config.regions;
  if (config.accounts === undefined) {
    const hubRegion = config.hubRegion ?? regions?.[0] ?? region ?? '(each region with a stack)';
    const hub: UninstallItem = {
      account: 'this account',
      region: hubRegion,
      removes: [`stack ${stackName}: ${HUB_REMOVES[0]}`],
      keeps: [...HUB_KEEPS, MANAGED],
      how: regions ? 'npx cdk destroy --all -c configFile=F' : `npx cdk destroy ${stackName}`,
    };
    const others = (regions ?? [])
      .filter((r) => r !== hubRegion)
      .map((r) => ({
        account: 'this account',
        region: r,
        removes: [`stack ${stackName}-${r}: forwarding rules, their role and dead-letter queues`],
        keeps: [MANAGED],
        how: 'npx cdk destroy --all -c configFile=F',
      }));
    return [hub, ...others];
  }
  const hubRegion = config.hubRegion ?? regions?.[0] ?? '(hubRegion)';
  const spokeRegions = regions ?? ['(each region of SpokeRegions)'];
  const spoke = (r: string) =>
    `spoke: forwarding rules and dead-letter queues${r === hubRegion ? `, and the member roles ${config.remediationRoleName}*` : ''}`;
  const members =
    config.accounts === 'organization'
      ? ['every account with a StackSet instance (trailguard spokes)']
      : config.accounts;
  return [
    ...spokeRegions.map((r) => ({
      account: 'management account',
      region: r,
      removes: [`stack ${SPOKE_STACK_NAME}: ${spoke(r)}`],
      keeps: [MANAGED],
      how: `aws cloudformation delete-stack --stack-name ${SPOKE_STACK_NAME} (step 1)`,
    })),
    ...members.flatMap((account) =>
      spokeRegions.map((r) => ({
        account,
        region: r,
        removes: [`StackSet instance: ${spoke(r)}`],
        keeps: [MANAGED],
        how: 'aws cloudformation delete-stack-instances --no-retain-stacks (step 2)',
      })),
    ),
    {
      account: 'hub account',
      region: hubRegion,
      removes: [`StackSet ${stackName}-spoke (once it has no instance)`],
      keeps: [],
      how: 'aws cloudformation delete-stack-set (step 2)',
    },
    {
      account: 'hub account',
      region: hubRegion,
      removes: [`stack ${stackName}: ${HUB_REMOVES[0]}, hub event bus`],
      keeps: [...HUB_KEEPS, MANAGED],
      how: `npx cdk destroy ${stackName} -c configFile=F (step 3)`,
    },
  ];
}

export function registerUninstall(program: Command, io: CliIo): void {
  program
    .command('uninstall')
    .description(
      'List what uninstalling trailguard removes and keeps, per account and region (--dry-run); the removal itself is the commands of docs/operations.md.',
    )
    .option('--config <file>', 'JSON configuration file (the shape: accounts, regions, hubRegion)')
    .option('--dry-run', 'list what the uninstall would remove and keep; change nothing')
    .option('--stack <name>', `the guardrail's stack name (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "a single account's region (without regions in the configuration)")
    .option('--json', 'print one JSON array: account, region, removes, keeps, how')
    .action(
      async (options: {
        config?: string;
        dryRun?: boolean;
        stack?: string;
        region?: string;
        json?: boolean;
      }) => {
        if (!options.dryRun) {
          throw new UsageError(
            'uninstall only lists what would go (--dry-run); remove trailguard with the commands of docs/operations.md, "Uninstall", in their order',
          );
        }
        const env = io.env ?? process.env;
        const config = options.config ? await loadConfigFile(options.config) : parseConfig({});
        const plan = uninstallPlan(
          config,
          options.stack ?? DEFAULT_STACK_NAME,
          options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
        );
        if (options.json) {
          io.stdout.write(`${JSON.stringify(plan)}\n`);
          return;
        }
        io.stdout.write(
          `${formatTable(
            ['ACCOUNT', 'REGION', 'REMOVES', 'KEEPS', 'HOW'],
            plan.map((i) => [i.account, i.region, i.removes.join('; '), i.keeps.join('; ') || '-', i.how]),
          )}\n\nNothing was changed (dry run). docs/operations.md, "Uninstall": the commands, their order, and how to delete what is kept.\n`,
        );
      },
    );
}
