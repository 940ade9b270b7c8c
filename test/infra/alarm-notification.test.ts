/**
 * The CIS alarms' path to the team in the synthesized templates (config.cisMonitoring): every spoke forwards its
 * account's and region's trailguard CIS alarms going to ALARM to the hub's bus (same bus-to-bus path and forwarding
 * role as the trigger rules), and the hub's AlarmNotification rule emails them on the team's topic, leaving out
 * the alarms that notify the topic themselves (its own account and region). The topic's key admits EventBridge
 * for that rule only. cdk-nag stays clean.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { RULE_METADATA_KEY } from '../../infra/constructs/trigger.js';
import { TrailguardRegionStack } from '../../infra/stacks/region-stack.js';
import { ALARM_EVENT_SOURCE, ALARM_STATE_CHANGE } from '../../services/domain/alarm-events.js';
import { CIS_NAME_PREFIX } from '../../services/domain/cis-monitoring.js';
import type { CfnResource } from './template.js';

const HUB = {
  accounts: ['111122223333', '444455556666'],
  regions: ['us-east-1', 'eu-west-1'],
  hubRegion: 'us-east-1',
  cisMonitoring: true,
};

function templates(config: Record<string, unknown>, nag = false) {
  const { stack, spoke } = buildApp({ bundling: false, nag, config });
  if (!spoke) throw new Error('a hub app has a spoke stack');
  return {
    hub: Template.fromStack(stack).toJSON().Resources as Record<string, CfnResource>,
    spoke: Template.fromStack(spoke).toJSON().Resources as Record<string, CfnResource>,
  };
}

const rulesNamed = (resources: Record<string, CfnResource>, name: string) =>
  Object.values(resources).filter(
    (r) => r.Type === 'AWS::Events::Rule' && r.Metadata?.[RULE_METADATA_KEY] === name,
  );

const ALARM_PATTERN = {
  source: [ALARM_EVENT_SOURCE],
  'detail-type': [ALARM_STATE_CHANGE],
  detail: { alarmName: [{ prefix: CIS_NAME_PREFIX }], state: { value: ['ALARM'] } },
};

describe('the CIS alarms reach the team (cisMonitoring)', () => {
  const { hub, spoke } = templates(HUB);

  it("the hub's AlarmNotification rule is on the hub's bus, emails the topic with the alarm's name, account, region and reason, and leaves out the topic's own account and region", () => {
    const [rule] = rulesNamed(hub, 'AlarmNotification');
    expect(rule).toBeDefined();
    const props = rule?.Properties as {
      EventBusName?: unknown;
      EventPattern: Record<string, unknown>;
      Targets: {
        Arn: unknown;
        InputTransformer?: { InputPathsMap: Record<string, string>; InputTemplate: string };
        DeadLetterConfig?: unknown;
      }[];
    };
    expect(props.EventBusName).toBeDefined();
    expect(props.EventPattern).toMatchObject(ALARM_PATTERN);
    expect(props.EventPattern.$or).toEqual([
      { account: [{ 'anything-but': { Ref: 'AWS::AccountId' } }] },
      // The hub stack is pinned to its region (hubRegion).
      { region: [{ 'anything-but': 'us-east-1' }] },
    ]);
    const [target] = props.Targets;
    const topicId = Object.entries(hub).find(([, r]) => r.Type === 'AWS::SNS::Topic')?.[0];
    expect(target?.Arn).toEqual({ Ref: topicId });
    expect(target?.DeadLetterConfig).toBeDefined();
    expect(Object.values(target?.InputTransformer?.InputPathsMap ?? {}).sort()).toEqual(
      [
        '$.account',
        '$.detail.alarmName',
        '$.detail.state.reason',
        '$.detail.state.value',
        '$.region',
        '$.resources[0]',
        '$.time',
      ].sort(),
    );
  });

  it("EventBridge publishes as the rule's own role (sns:Publish on the topic, the topic's key through it): the topic's policy admits no service principal at large", () => {
    const [rule] = rulesNamed(hub, 'AlarmNotification');
    const target = (
      (rule?.Properties.Targets ?? []) as { RoleArn?: { 'Fn::GetAtt': [string, string] } }[]
    )[0];
    const roleId = target?.RoleArn?.['Fn::GetAtt'][0];
    expect(roleId).toBeDefined();
    const role = hub[String(roleId)];
    expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain('events.amazonaws.com');
    const policies = Object.values(hub).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles ?? []).includes(String(roleId)),
    );
    const actions = policies.flatMap((p) =>
      (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap(
        (st) => (Array.isArray(st.Action) ? st.Action : [st.Action]),
      ),
    );
    expect(actions).toContain('sns:Publish');
    const topicPolicies = Object.values(hub).filter((r) => r.Type === 'AWS::SNS::TopicPolicy');
    expect(JSON.stringify(topicPolicies.map((t) => t.Properties.PolicyDocument))).not.toContain(
      'events.amazonaws.com',
    );
  });

  it("each spoke forwards its CIS alarms' ALARM changes to the hub's bus through the forwarding role, with its own dead-letter queue", () => {
    const [rule] = rulesNamed(spoke, 'AlarmNotification');
    const props = rule?.Properties as {
      EventPattern: unknown;
      Targets: { Arn: unknown; RoleArn?: unknown; DeadLetterConfig?: unknown }[];
    };
    expect(props.EventPattern).toEqual(ALARM_PATTERN);
    const trigger = rulesNamed(spoke, 'Trigger')[0]?.Properties as {
      Targets: { Arn: unknown; RoleArn: unknown }[];
    };
    expect(props.Targets[0]?.Arn).toEqual(trigger.Targets[0]?.Arn);
    expect(props.Targets[0]?.RoleArn).toEqual(trigger.Targets[0]?.RoleArn);
    expect(props.Targets[0]?.DeadLetterConfig).toBeDefined();
  });

  it("a single account's region stack forwards them to the hub region's default bus", () => {
    const app = new App();
    const region = new TrailguardRegionStack(app, 'Region', {
      env: { account: '111122223333', region: 'eu-west-1' },
      config: {
        regions: ['us-east-1', 'eu-west-1'],
        hubRegion: 'us-east-1',
        cisMonitoring: true,
      },
      hubRegion: 'us-east-1',
    });
    const resources = Template.fromStack(region).toJSON().Resources as Record<string, CfnResource>;
    expect(rulesNamed(resources, 'AlarmNotification')[0]?.Properties.EventPattern).toEqual(ALARM_PATTERN);
  });

  it('without cisMonitoring there are no alarms, and no such rule anywhere', () => {
    const off = templates({ ...HUB, cisMonitoring: false });
    expect(rulesNamed(off.hub, 'AlarmNotification')).toEqual([]);
    expect(rulesNamed(off.spoke, 'AlarmNotification')).toEqual([]);
  });

  it('cdk-nag finds nothing unacknowledged with the new rules', () => {
    expect(() => templates(HUB, true)).not.toThrow();
  });
});
