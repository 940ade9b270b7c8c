/**
 * Builds the CDK app: used by `cdk synth/deploy` (infra/bin/app.ts), the infrastructure tests and the local
 * workflow runner, so that all three see the same template.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ConfigInput } from '../policies/config.js';
import type { StepName } from './constructs/functions.js';
import { DEFAULT_STACK_NAME } from './stack-name.js';
import { TrailguardStack } from './stacks/trailguard-stack.js';

export { DEFAULT_STACK_NAME };

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
}

export interface BuiltApp {
  app: App;
  stack: TrailguardStack;
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
  const stack = new TrailguardStack(app, options.stackName ?? DEFAULT_STACK_NAME, {
    ...(options.config ? { config: options.config } : {}),
    ...(options.notificationEmail ? { notificationEmail: options.notificationEmail } : {}),
    ...(options.stepEntries ? { stepEntries: options.stepEntries } : {}),
    ...(options.sweepEntry ? { sweepEntry: options.sweepEntry } : {}),
  });
  if (options.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
