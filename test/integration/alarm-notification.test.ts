/**
 * trailguard's CIS alarms reach the team from any guarded account and region. An alarm cannot notify a topic in
 * another region, nor one of another account whose policies do not admit it (CloudWatch PutMetricAlarm), so
 * only alarms in the hub topic's own account and region have it as their action; every other one's ALARM state
 * change (EventBridge, "Alarm events and EventBridge") is forwarded by its spoke to the hub's bus, where the
 * alarm notification rule emails the team (infra/constructs/trigger.ts). `trailguard replay` applies that rule
 * from the synthesized hub template and publishes its text to the hub topic, as EventBridge does deployed (moto
 * emits no alarm events and cannot deliver EventBridge events to SNS).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../policies/config.js';
import { cisAlarmNames, cisAlarmTopic } from '../../services/domain/cis-monitoring.js';
import { replayEvent } from '../../services/local/replay.js';
import { sampleEvent } from '../../services/local/sample-events.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator } from '../support/aws.js';
import { cli } from '../support/organization.js';

const MEMBER = '444455556666';
const OTHER_MEMBER = '777788889999';
const SECOND_REGION = REGION === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
const TOPIC = 'trailguard-notifications';
const HUB_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC}`;
const CONFIG: ConfigInput = {
  accounts: [MEMBER, OTHER_MEMBER],
  regions: [REGION, SECOND_REGION],
  hubRegion: REGION,
  cisMonitoring: true,
};
const ALARM = cisAlarmNames('CloudTrail/management-events')[2] ?? '';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailguard-alarm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await resetEmulator();
  const file = join(dir, 'hub.json');
  await writeFile(file, JSON.stringify(CONFIG));
  const setup = await cli(['local-setup', '--config', file]);
  expect(setup.code, setup.stderr).toBe(0);
});

/** The sample alarm event (test/fixtures/events), in `account` and `region`, for `alarmName` and `state`. */
function alarmEvent(account: string, region: string, alarmName = ALARM, state = 'ALARM') {
  const sample = sampleEvent('cis-alarm-state-change') as {
    detail: { state: Record<string, unknown> } & Record<string, unknown>;
  };
  return {
    ...sample,
    account,
    region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${alarmName}`],
    detail: { ...sample.detail, alarmName, state: { ...sample.detail.state, value: state } },
  };
}

describe('CIS alarm actions', () => {
  it("notify the topic directly only in the topic's own account and region; elsewhere no action", () => {
    const topic = HUB_TOPIC_ARN;
    expect(cisAlarmTopic(topic, { account: ACCOUNT, region: REGION })).toBe(topic);
    expect(cisAlarmTopic(topic, { account: ACCOUNT, region: SECOND_REGION })).toBeUndefined();
    expect(cisAlarmTopic(topic, { account: MEMBER, region: REGION })).toBeUndefined();
    expect(cisAlarmTopic(undefined, { account: ACCOUNT, region: REGION })).toBeUndefined();
    expect(parseConfig(CONFIG).cisMonitoring).toBe(true);
  });
});

describe('trailguard replay of a CIS alarm state change (--config, a hub with 2 members x 2 regions)', () => {
  it("a member's CIS alarm going to ALARM in the second region is emailed to the team on the hub topic", async () => {
    const result = await replayEvent(alarmEvent(MEMBER, SECOND_REGION), { config: CONFIG });
    expect(result).toMatchObject({
      outcome: 'notified',
      account: MEMBER,
      region: SECOND_REGION,
      trail: null,
    });
    expect(result.reason).toContain(`emailed to ${HUB_TOPIC_ARN}`);
    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(1);
    expect(mails[0]?.topicArn).toBe(HUB_TOPIC_ARN);
    expect(mails[0]?.message).toContain(`CIS alarm ${ALARM} is ALARM`);
    expect(mails[0]?.message).toContain(`in account ${MEMBER}, region ${SECOND_REGION}`);
    expect(mails[0]?.message).toContain('Threshold Crossed');
  });

  it("each member and region: the other member's alarm in the hub region is emailed too", async () => {
    for (const [account, region] of [
      [OTHER_MEMBER, REGION],
      [MEMBER, REGION],
      [ACCOUNT, SECOND_REGION],
    ] as const) {
      expect((await replayEvent(alarmEvent(account, region), { config: CONFIG })).outcome).toBe('notified');
    }
    expect(await emulatorNotifications()).toHaveLength(3);
  });

  it('another alarm, an OK state, and an alarm that notifies the topic itself (hub account and region) are ignored: no email', async () => {
    const other = await replayEvent(alarmEvent(MEMBER, SECOND_REGION, 'billing-alarm'), { config: CONFIG });
    expect(other.outcome).toBe('ignored');
    expect(other.reason).toContain('alarm billing-alarm');
    const ok = await replayEvent(alarmEvent(MEMBER, SECOND_REGION, ALARM, 'OK'), { config: CONFIG });
    expect(ok.outcome).toBe('ignored');
    const direct = await replayEvent(alarmEvent(ACCOUNT, REGION), { config: CONFIG });
    expect(direct.outcome).toBe('ignored');
    expect(await emulatorNotifications()).toEqual([]);
  });

  it('an alarm event from an account the hub does not guard is skipped, no email', async () => {
    const result = await replayEvent(alarmEvent('999988887777', SECOND_REGION), { config: CONFIG });
    expect(result.outcome).toBe('skipped');
    expect(await emulatorNotifications()).toEqual([]);
  });

  it('the CLI: trailguard replay FILE --config emails the team (outcome notified, exit 0)', async () => {
    const event = join(dir, 'alarm.json');
    await writeFile(event, JSON.stringify(alarmEvent(MEMBER, SECOND_REGION)));
    const config = join(dir, 'hub.json');
    const run = await cli(['replay', event, '--config', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trimEnd().split('\n').at(-1) ?? '{}')).toMatchObject({
      outcome: 'notified',
    });
    expect(await emulatorNotifications()).toHaveLength(1);
  });
});
