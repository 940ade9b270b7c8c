/**
 * The hub's event bus (config.accounts set): every spoke's rules forward the events of their account and region
 * here, one hop, and the hub's rules (trigger.ts) start the workflow or the fan-out from here. Its resource policy
 * admits events:PutEvents only from the guarded accounts: the organization (aws:PrincipalOrgID) or exactly the
 * listed accounts. The hub's own account needs no statement (its spoke's role is allowed by its own policy).
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Sids of the bus policy's statement, one per form of config.accounts. */
export const HUB_BUS_POLICY_SIDS = {
  organization: 'AllowPutEventsFromTheOrganization',
  accounts: 'AllowPutEventsFromTheGuardedAccounts',
} as const;

export interface TrailguardHubBusProps {
  /** config.accounts. */
  accounts: 'organization' | readonly string[];
  /** The organization's id (config.organizationId or the hub's parameter); required with "organization". */
  organizationId?: string;
}

export class TrailguardHubBus extends Construct {
  readonly bus: events.EventBus;
  readonly statement: iam.PolicyStatement;
  readonly policy: events.CfnEventBusPolicy;

  constructor(scope: Construct, id: string, props: TrailguardHubBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      description:
        'trailguard hub: CloudTrail, log group, IAM and Security Hub events forwarded by the spokes',
    });
    if (props.accounts === 'organization') {
      if (!props.organizationId) throw new Error('the hub bus of an organization needs its id');
      this.statement = new iam.PolicyStatement({
        sid: HUB_BUS_POLICY_SIDS.organization,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      });
    } else {
      this.statement = new iam.PolicyStatement({
        sid: HUB_BUS_POLICY_SIDS.accounts,
        principals: props.accounts.map((account) => new iam.AccountPrincipal(account)),
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      });
    }
    this.policy = new events.CfnEventBusPolicy(this, 'Policy', {
      eventBusName: this.bus.eventBusName,
      statementId: this.statement.sid ?? '',
      statement: this.statement.toStatementJson(),
    });
  }
}
