/**
 * The synth-time guard against removing a deployed hub's StackSet (infra/spoke-removal-guard.ts): the deployed
 * stack's recorded shape is read from its outputs with CloudFormation DescribeStacks, here against stacks
 * created in moto (which keeps a template's Outputs), in the test's account and region.
 */
import { CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import {
  cloudFormationOutputs,
  guardSpokeRemoval,
  SpokeRemovalError,
  STACK_SET_OUTPUT,
} from '../../infra/spoke-removal-guard.js';
import type { ConfigInput } from '../../policies/config.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { REGION, resetEmulator, testClients } from '../support/aws.js';

let clients: AwsClients;
beforeEach(async () => {
  await resetEmulator();
  clients = testClients();
});

const lookup = () => cloudFormationOutputs(() => clients);

/** A deployed stack named `name` with the given outputs (a queue as its one resource). */
async function deployed(name: string, outputs: Record<string, string>): Promise<void> {
  const template = {
    Resources: { Queue: { Type: 'AWS::SQS::Queue' } },
    Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
  };
  await clients
    .cloudFormation()
    .send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
}

const app = (stackName: string, config: ConfigInput = {}, spokeStackSet?: boolean) =>
  buildApp({
    bundling: false,
    nag: false,
    stackName,
    config,
    ...(spokeStackSet === undefined ? {} : { spokeStackSet }),
  });

describe('a deploy that would remove a deployed hub’s StackSet', () => {
  it('refuses a single-account configuration over a hub, naming the stack, its StackSet and allowSpokeRemoval', async () => {
    await deployed('TrailguardHubUnderTest', { [STACK_SET_OUTPUT]: 'TrailguardHubUnderTest-spoke:1234' });
    const refused = guardSpokeRemoval(app('TrailguardHubUnderTest'), lookup(), REGION);
    await expect(refused).rejects.toBeInstanceOf(SpokeRemovalError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `^stack TrailguardHubUnderTest in ${REGION} is an organization hub whose StackSet TrailguardHubUnderTest-spoke:1234 .*allowSpokeRemoval`,
      ),
    );
  });

  it('refuses a hub configuration without its StackSet (spokeStackSet false) over a hub with one', async () => {
    await deployed('TrailguardHubUnderTest', { [STACK_SET_OUTPUT]: 'set-1' });
    const hubWithout = app('TrailguardHubUnderTest', { accounts: 'organization', hubRegion: REGION }, false);
    await expect(guardSpokeRemoval(hubWithout, lookup())).rejects.toThrow(/spokeStackSet false/);
  });

  it('allowSpokeRemoval: true lets it through; so do a hub that keeps its StackSet and a stack that is not a hub', async () => {
    await deployed('TrailguardHubUnderTest', { [STACK_SET_OUTPUT]: 'set-1' });
    await expect(
      guardSpokeRemoval(app('TrailguardHubUnderTest', { allowSpokeRemoval: true }), lookup(), REGION),
    ).resolves.toBe('allowed');
    const hub = app('TrailguardHubUnderTest', { accounts: 'organization', hubRegion: REGION });
    await expect(guardSpokeRemoval(hub, lookup())).resolves.toBe('has-stack-set');
    await deployed('TrailguardSingleUnderTest', { StateMachineArn: 'arn:aws:states:x' });
    await expect(guardSpokeRemoval(app('TrailguardSingleUnderTest'), lookup(), REGION)).resolves.toBe(
      'not-a-hub',
    );
  });

  it('a first deploy (no stack of that name in the region) goes ahead', async () => {
    await expect(guardSpokeRemoval(app('TrailguardNotDeployed'), lookup(), REGION)).resolves.toBe(
      'not-deployed',
    );
  });
});
