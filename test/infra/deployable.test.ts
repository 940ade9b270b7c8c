/**
 * Deployable by the book (issue 21): every stack that is deployed in one region names it (the organization hub
 * included, so `cdk deploy` cannot land it wherever the CLI's profile points); the StackSet's remediation-role
 * region is a literal among the spokes' regions; the rollout tolerates failed accounts; and the StackSet is
 * retained unless the configuration allows removing the spokes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Token } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { type BuildAppOptions, buildApp } from '../../infra/app.js';
import { SPOKE_PARAMETERS } from '../../infra/stacks/spoke-stack.js';
import { ConfigError, type ConfigInput } from '../../policies/config.js';
import type { CfnResource } from './template.js';

type Template = {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, Record<string, unknown>>;
  Rules?: Record<string, { Assertions: { Assert: unknown; AssertDescription: string }[] }>;
};

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function synth(config: ConfigInput, options: Partial<BuildAppOptions> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'trailguard-deployable-'));
  outdirs.push(outdir);
  const built = buildApp({ bundling: false, nag: false, config, outdir, ...options });
  const assembly = built.app.synth();
  const template = (name: string) => assembly.getStackByName(name).template as Template;
  return { ...built, hub: template(built.stack.stackName), template };
}

const stackSetOf = (t: Template) => {
  const found = Object.values(t.Resources).find((r) => r.Type === 'AWS::CloudFormation::StackSet');
  if (!found) throw new Error('no StackSet in the hub');
  return found;
};
const stackSetParameter = (t: Template, key: string) =>
  (stackSetOf(t).Properties.Parameters as { ParameterKey: string; ParameterValue: unknown }[]).find(
    (p) => p.ParameterKey === key,
  )?.ParameterValue;

/** The one line a ConfigError carries (its problems), or a note that nothing was thrown. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return ['(no ConfigError)'];
}

describe('pinned at synth', () => {
  it('an organization hub is pinned to hubRegion; without it, to the first of regions', () => {
    const withHub = synth({
      accounts: 'organization',
      regions: ['us-east-1', 'eu-west-1'],
      hubRegion: 'eu-west-1',
    });
    expect(withHub.stack.region).toBe('eu-west-1');
    const firstRegion = synth({ accounts: ['111122223333'], regions: ['ap-southeast-2', 'us-east-1'] });
    expect(firstRegion.stack.region).toBe('ap-southeast-2');
    // The spoke is made to be deployed in several regions (the management account's): not pinned.
    expect(Token.isUnresolved(firstRegion.spoke?.region)).toBe(true);
  });

  it('an organization hub with neither hubRegion nor regions fails synth with one line naming the key', () => {
    const problems = problemsOf(() =>
      buildApp({ bundling: false, nag: false, config: { accounts: 'organization' } }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^hubRegion: .*set hubRegion/);
  });

  it('hubRegion not among the spokes’ regions fails synth', () => {
    const problems = problemsOf(() =>
      buildApp({
        bundling: false,
        nag: false,
        config: {
          accounts: 'organization',
          regions: ['us-east-1', 'eu-west-1'],
          hubRegion: 'ap-southeast-2',
        },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^hubRegion: ap-southeast-2 is not one of the guarded regions/),
    ]);
  });

  it('the StackSet’s role region is a literal, the hub’s, and one of the configured regions', () => {
    const regions = ['us-east-1', 'eu-west-1'];
    for (const config of [
      { accounts: 'organization', regions, hubRegion: 'eu-west-1' },
      { accounts: ['111122223333'], regions },
    ] satisfies ConfigInput[]) {
      const { hub, stack, spoke, template } = synth(config);
      const roleRegion = stackSetParameter(hub, SPOKE_PARAMETERS.remediationRoleRegion);
      expect(roleRegion).toBe(stack.region);
      expect(regions).toContain(roleRegion);
      // The management account's spoke defaults to the same region.
      expect(template(spoke?.stackName ?? '').Parameters?.RemediationRoleRegion?.Default).toBe(roleRegion);
    }
  });

  it('regions as the SpokeRegions parameter: a template rule requires the role region among them', () => {
    const { hub } = synth({ accounts: 'organization', hubRegion: 'eu-west-1' });
    expect(stackSetParameter(hub, SPOKE_PARAMETERS.remediationRoleRegion)).toBe('eu-west-1');
    expect(hub.Rules?.RemediationRoleRegionIsASpokeRegion?.Assertions).toEqual([
      {
        Assert: { 'Fn::Contains': [{ Ref: 'SpokeRegions' }, 'eu-west-1'] },
        AssertDescription: expect.stringContaining('SpokeRegions must include eu-west-1'),
      },
    ]);
    // Configured regions: checked at synth, no rule needed.
    const configured = synth({ accounts: 'organization', regions: ['eu-west-1'] });
    expect(configured.hub.Rules?.RemediationRoleRegionIsASpokeRegion).toBeUndefined();
  });

  it('a single account with regions or hubRegion: every stack names its region; with neither, the stack is deployed per region', () => {
    const several = synth({ regions: ['eu-west-1', 'us-east-1'] });
    expect(several.stack.region).toBe('eu-west-1');
    expect(several.regionStacks.map((s) => s.region)).toEqual(['us-east-1']);
    const plain = synth({});
    expect(Token.isUnresolved(plain.stack.region)).toBe(true);
    // One region named: the one stack is pinned there.
    const named = synth({ hubRegion: 'eu-central-1' });
    expect(named.stack.region).toBe('eu-central-1');
    expect(named.regionStacks).toEqual([]);
  });
});

describe('a rollout that survives one bad account', () => {
  it('soft failure tolerance, every account may fail: the operation (and so the hub) never fails on an instance', () => {
    const { hub } = synth({ accounts: 'organization', regions: ['us-east-1'] });
    expect(stackSetOf(hub).Properties.OperationPreferences).toEqual({
      RegionConcurrencyType: 'PARALLEL',
      ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
      MaxConcurrentPercentage: 25,
      FailureTolerancePercentage: 100,
    });
  });
});

describe('no accidental organization-wide deletion', () => {
  it('the StackSet is retained (deletion and replacement) unless allowSpokeRemoval', () => {
    const kept = stackSetOf(synth({ accounts: 'organization', regions: ['us-east-1'] }).hub);
    expect(kept.DeletionPolicy).toBe('Retain');
    expect(kept.UpdateReplacePolicy).toBe('Retain');
    const removable = stackSetOf(
      synth({ accounts: 'organization', regions: ['us-east-1'], allowSpokeRemoval: true }).hub,
    );
    expect(removable.DeletionPolicy).toBe('Delete');
    expect(removable.UpdateReplacePolicy).toBe('Delete');
  });
});
