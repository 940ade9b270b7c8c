/**
 * A region the configuration does not guard: a single account without `regions` guards only its stack's own
 * region (the CLI's AWS_REGION), so `replay` of an event from another region is `skipped` before anything runs,
 * with a reason naming the `regions` key, instead of running the workflow there and failing at RestoreLogGroup
 * (no state table in that region). The same for any region outside `regions`. Two accounts' worth of regions:
 * the event's region is never the test project's own.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedTrailIn } from '../../services/local/organization-seed.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator, testClients } from '../support/aws.js';
import { cli, eventIn } from '../support/organization.js';

const OTHER_REGION = REGION === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
const MEMBER = '444455556666';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailguard-regions-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(resetEmulator);

async function replay(event: Record<string, unknown>, config?: Record<string, unknown>) {
  const file = join(dir, 'event.json');
  await writeFile(file, JSON.stringify(event));
  const args = ['replay', file, '--json'];
  if (config) {
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(config));
    args.push('--config', configFile);
  }
  const run = await cli(args);
  return {
    run,
    json: JSON.parse(run.stdout.trimEnd().split('\n').at(-1) ?? '{}') as Record<string, unknown>,
  };
}

const logging = async (region: string, name: string) =>
  (
    await testClients()
      .cloudTrail(region)
      .send(new GetTrailStatusCommand({ Name: name }))
  ).IsLogging;

describe('replay of an event from a region that is not guarded', () => {
  it('a single account without `regions` (plain local-setup): skipped, nothing touched, the reason names `regions`', async () => {
    const setup = await cli(['local-setup']);
    expect(setup.code, setup.stderr).toBe(0);
    await seedTrailIn(testClients(), ACCOUNT, OTHER_REGION, 'elsewhere');
    expect(await logging(OTHER_REGION, 'elsewhere')).toBe(false);

    const { run, json } = await replay(eventIn(ACCOUNT, OTHER_REGION, 'StopLogging', 'elsewhere'));
    expect(run.code, run.stderr).toBe(0);
    expect(json).toMatchObject({ outcome: 'skipped', account: ACCOUNT, region: OTHER_REGION });
    expect(String(json.reason)).toContain('`regions`');
    expect(String(json.reason)).toContain(`only its own region ${REGION}`);
    // Nothing ran: the trail is as it was, no email.
    expect(await logging(OTHER_REGION, 'elsewhere')).toBe(false);
    expect(await emulatorNotifications()).toEqual([]);

    // The stack's own region is still handled.
    await seedTrailIn(testClients(), ACCOUNT, REGION, 'here');
    const own = await replay(eventIn(ACCOUNT, REGION, 'StopLogging', 'here'));
    expect(own.json.outcome).toBe('remediated');
  });

  it('a hub: an event from a region outside `regions` is skipped, the reason names `regions`', async () => {
    const config = { accounts: [MEMBER], regions: [REGION], hubRegion: REGION };
    await writeFile(join(dir, 'hub.json'), JSON.stringify(config));
    const setup = await cli(['local-setup', '--config', join(dir, 'hub.json')]);
    expect(setup.code, setup.stderr).toBe(0);
    const { run, json } = await replay(eventIn(MEMBER, OTHER_REGION, 'UpdateTrail', 'member-trail'), config);
    expect(run.code, run.stderr).toBe(0);
    expect(json).toMatchObject({ outcome: 'skipped', account: MEMBER, region: OTHER_REGION });
    expect(String(json.reason)).toContain("the configuration's `regions` lists");
    expect(await emulatorNotifications()).toEqual([]);
  });
});
