/**
 * Builds the CDK app: used by `cdk synth/deploy` (infra/bin/app.ts), the infrastructure tests and the local
 * workflow runner, so that all three see the same template.
 *
 * With config.accounts set, the app also has the spoke as a stack of its own (`TrailguardSpoke`), for the
 * accounts the hub's StackSet does not reach (the management account): the same template the StackSet deploys.
 * A single account with config.regions: the guardrail's stack in the hub region (config.hubRegion, else the first
 * of the regions) and `<stack name>-<region>` (infra/stacks/region-stack.ts) in each other guarded region, so
 * that `cdk deploy --all` guards them all at once.
 *
 * Pinned regions: the hub of an organization is pinned to its region (config.hubRegion, else the first of
 * config.regions; neither set fails synth with one line naming the key), so `cdk deploy` cannot land it in
 * whatever region the CLI's profile points to, and so is a single account's guardrail with `regions` and each of
 * its region stacks, and a single account's stack with `hubRegion`. Environment-agnostic, by design: a
 * single-account stack with neither `regions` nor `hubRegion` (deployed once per region with AWS_REGION,
 * docs/deploy.md "Regions and IAM events") and the spoke (`TrailguardSpoke`, the management account deploys it in
 * every guarded region: docs/deploy.md "Management account").
 */
import { App, DefaultStackSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  type ConfigInput,
  configuredHubRegion,
  organizationHubRegion,
  parseConfig,
} from '../policies/config.js';
import type { StepName } from './constructs/functions.js';
import { DEFAULT_STACK_NAME, SPOKE_STACK_NAME } from './stack-name.js';
import { TrailguardRegionStack } from './stacks/region-stack.js';
import { TrailguardSpokeStack } from './stacks/spoke-stack.js';
import { TrailguardStack } from './stacks/trailguard-stack.js';

export { DEFAULT_STACK_NAME, SPOKE_STACK_NAME };

export interface BuildAppOptions {
  config?: ConfigInput;
  notificationEmail?: string;
  /** Bundle the functions' code with esbuild. False for fast in-process synth (tests, local runner). */
  bundling?: boolean;
  /** Run the cdk-nag AwsSolutions checks (any unacknowledged finding fails synth). Default true. */
  nag?: boolean;
  stackName?: string;
  /** Where the cloud assembly is written. Default: CDK's (CDK_OUTDIR or a temporary directory). */
  outdir?: string;
  /** Extra context, e.g. from the CDK CLI. */
  context?: Record<string, unknown>;
  /** Handler files by step (tests). Default: the registry's STEP_ENTRIES. */
  stepEntries?: Record<StepName, string>;
  /** The sweep function's handler file (tests). Default: the registry's SWEEP_ENTRY. */
  sweepEntry?: string;
  /** A hub: roll the spoke out with a StackSet (default true; see TrailguardStackProps.spokeStackSet). */
  spokeStackSet?: boolean;
  /** The spoke stack's name (a hub only). Default SPOKE_STACK_NAME. */
  spokeStackName?: string;
  /**
   * Pin an organization hub (and a single account's stack with hubRegion alone) to its region (default true; see
   * above). False only for a synth that is never deployed and may lack hubRegion/regions: the local runner's (the
   * CLI guards every enabled region then).
   */
  pinHubRegion?: boolean;
}

export interface BuiltApp {
  app: App;
  /** The guardrail (the hub when config.accounts is set). */
  stack: TrailguardStack;
  /** The spoke as a stack of its own (config.accounts set only). */
  spoke?: TrailguardSpokeStack;
  /** A single account with config.regions: a forwarding stack in each guarded region but the hub's. */
  regionStacks: TrailguardRegionStack[];
}

/** The forwarding stack of one region of a single account: `<stack name>-<region>`. */
export function regionStackName(stackName: string, region: string): string {
  return `${stackName}-${region}`;
}

export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...options.context,
      // An empty list: no stack needs its assets bundled (NodejsFunction skips esbuild).
      ...(options.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  // A single account with `regions`: the guardrail's stack in the hub region, a forwarding stack in each other.
  const config = parseConfig(options.config ?? {});
  // A single account with `hubRegion` alone: its one stack pinned there too.
  const hubRegion =
    config.accounts === undefined &&
    (config.regions !== undefined || (config.hubRegion !== undefined && options.pinHubRegion !== false))
      ? configuredHubRegion(config)
      : undefined;
  // An organization hub: pinned to hubRegion, else the first of regions (ConfigError when neither is set).
  const organizationRegion = options.pinHubRegion === false ? undefined : organizationHubRegion(config);
  const pinned = hubRegion ?? organizationRegion;
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const stack = new TrailguardStack(app, stackName, {
    ...(pinned ? { env: { region: pinned } } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(options.notificationEmail ? { notificationEmail: options.notificationEmail } : {}),
    ...(options.stepEntries ? { stepEntries: options.stepEntries } : {}),
    ...(options.sweepEntry ? { sweepEntry: options.sweepEntry } : {}),
    ...(options.spokeStackSet !== undefined ? { spokeStackSet: options.spokeStackSet } : {}),
  });
  const spoke =
    stack.config.accounts === undefined
      ? undefined
      : new TrailguardSpokeStack(app, options.spokeStackName ?? SPOKE_STACK_NAME, {
          ...(options.config ? { config: options.config } : {}),
          // No bootstrap-version rule: the same template deploys with `cdk deploy` (a bootstrapped account) or
          // with `aws cloudformation deploy` (an account that is not, such as a management account).
          synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
        });
  const regionStacks = hubRegion
    ? (config.regions ?? [])
        .filter((region) => region !== hubRegion)
        .map(
          (region) =>
            new TrailguardRegionStack(app, regionStackName(stackName, region), {
              ...(options.config ? { config: options.config } : {}),
              hubRegion,
              env: { region },
            }),
        )
    : [];
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, ...(spoke ? { spoke } : {}), regionStacks };
}
