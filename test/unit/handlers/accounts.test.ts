/**
 * The hub's steps and sweep decide about accounts before they touch AWS: an account the hub does not guard is
 * skipped (Check) or starts nothing (sweep) without a single call in it, an account whose remediation role
 * cannot be assumed fails Check with AccountAccessError (not retried by the workflow), and the hub's sweep
 * lists its targets (accounts x regions) from the configuration.
 */
import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../../policies/config.js';
import { FUNCTION_NAMES } from '../../../policies/iam.js';
import { type AccountAccess, AccountAccessError, accountAccess } from '../../../services/aws/accounts.js';
import type { AwsClients } from '../../../services/aws/clients.js';
import type { StartExecution } from '../../../services/aws/execution-starter.js';
import { sweepStep } from '../../../services/aws/sweep.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { RunContextSchema } from '../../../services/domain/run-context.js';
import { parseSweepInput, sweepTargetsOf } from '../../../services/domain/sweep.js';
import { checkStep } from '../../../services/handlers/check.js';
import { clientsIn } from '../../../services/handlers/deps.js';
import { adminEvent } from '../../support/events.js';
import { ACCOUNT, EXECUTION, REGION } from '../../support/run-contexts.js';

const MEMBER = '444455556666';
const STRANGER = '999988887777';
const OTHER_REGION = REGION === 'us-east-1' ? 'eu-west-1' : 'us-east-1';

/** Clients that fail the test on any AWS call. */
const noAws = new Proxy({} as AwsClients, {
  get: (_, key) =>
    key === 'defaultRegion'
      ? REGION
      : () => {
          throw new Error(`unexpected AWS client ${String(key)}()`);
        },
});

/** Account access that records which accounts were asked for, and fails for `denied`. */
function access(denied?: string): AccountAccess & { asked: string[] } {
  const asked: string[] = [];
  return {
    hubAccount: ACCOUNT,
    assumed: new Map(),
    asked,
    async clientsFor(account) {
      asked.push(account);
      if (account === denied) {
        throw new AccountAccessError(`cannot act in account ${account}: AssumeRole failed (AccessDenied)`);
      }
      return noAws;
    },
  };
}

const deps = (config: ConfigInput, accounts?: AccountAccess) => ({
  config: parseConfig(config),
  clients: noAws,
  accountId: ACCOUNT,
  topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
  auditTableName: 'trailguard-audit',
  now: () => new Date('2026-11-27T12:00:00Z'),
  ...(accounts ? { accounts } : {}),
});

/** An admin's StopLogging in `account`. */
function stopLogging(account: string) {
  return JSON.parse(JSON.stringify(adminEvent('StopLogging', 'main')).replaceAll(ACCOUNT, account)) as Record<
    string,
    unknown
  >;
}

const nothingStarts: StartExecution = async (request) => {
  throw new Error(`unexpected start of ${request.name}`);
};

describe('Check and the accounts a hub guards', () => {
  it('an event from an account the hub does not guard: skipped with the reason, nothing read or assumed', async () => {
    const accounts = access();
    const check = checkStep(deps({ accounts: [MEMBER] }, accounts));
    const out = RunContextSchema.parse(await check({ input: stopLogging(STRANGER), execution: EXECUTION }));
    expect(out).toMatchObject({
      decision: 'skip',
      outcome: 'skipped',
      account: STRANGER,
      reason: `account ${STRANGER} is not guarded by this hub (it guards accounts ${MEMBER})`,
    });
    expect(out.before).toBeUndefined();
    expect(accounts.asked).toEqual([]);
  });

  it('a single account (no accounts configured): another account is not guarded either', async () => {
    const check = checkStep(deps({}));
    const out = RunContextSchema.parse(await check({ input: stopLogging(MEMBER), execution: EXECUTION }));
    expect(out).toMatchObject({
      outcome: 'skipped',
      reason: `account ${MEMBER} is not guarded by this hub (it guards only its own account ${ACCOUNT})`,
    });
  });

  it("a guarded account whose role cannot be assumed: AccountAccessError, the workflow's failure path reports it", async () => {
    const accounts = access(MEMBER);
    const check = checkStep(deps({ accounts: [MEMBER] }, accounts));
    const error = await check({ input: stopLogging(MEMBER), execution: EXECUTION }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountAccessError);
    expect((error as Error).message).toContain(`cannot act in account ${MEMBER}`);
    expect(accounts.asked).toEqual([MEMBER]);
  });

  it('AccountAccessError is permanent: no retry of the workflow names it', async () => {
    const { RETRIES } = await import('../../../infra/constructs/workflow.js');
    for (const [name, retry] of Object.entries(RETRIES)) {
      expect(retry.errors, name).not.toContain('AccountAccessError');
      expect(retry.errors, name).not.toContain('States.ALL');
    }
  });
});

describe('the sweep input for a hub', () => {
  it('{kind: "targets"} and {kind: "target", account, region}', () => {
    expect(parseSweepInput({ kind: 'targets', id: 'sweep-1' })).toEqual({ kind: 'targets', id: 'sweep-1' });
    const generated = parseSweepInput({ kind: 'targets' });
    expect(generated).toMatchObject({ kind: 'targets', id: expect.any(String) });
    expect(parseSweepInput({ kind: 'target', account: MEMBER, region: REGION, id: 's' })).toEqual({
      kind: 'target',
      target: { kind: 'target', account: MEMBER, region: REGION, id: 's' },
    });
  });

  it.each([
    ['a bad account and region', { kind: 'target', account: '12', region: 'mars' }, /account: .*region: /s],
    ['no account', { kind: 'target', region: REGION }, /account/],
    ['an unknown key', { kind: 'targets', acounts: [MEMBER] }, /acounts/],
    ['an unknown kind', { kind: 'everything' }, /invalid sweep request: kind/],
  ])('%s: InvalidInputError', (_, input, message) => {
    expect(() => parseSweepInput(input)).toThrow(InvalidInputError);
    expect(() => parseSweepInput(input)).toThrow(message);
  });
});

describe("the hub's sweep targets (no AWS call with configured accounts and regions)", () => {
  const config = { accounts: [MEMBER], regions: [REGION, OTHER_REGION] };

  it('accounts and regions, the hub first (not their product: the answer stays small), each pair a ready input for the sweep', async () => {
    const result = await sweepStep(deps(config, access()), nothingStarts)({ kind: 'targets', id: 'run-7' });
    expect(result).toMatchObject({
      kind: 'targets',
      account: ACCOUNT,
      accounts: [ACCOUNT, MEMBER],
      regions: [REGION, OTHER_REGION],
      id: 'run-7',
      started: 0,
      reason: '4 account-region(s) to sweep: 2 account(s) x 2 region(s)',
    });
    expect(result).not.toHaveProperty('targets');
    expect(sweepTargetsOf(result)).toEqual([
      { kind: 'target', account: ACCOUNT, region: REGION, id: 'run-7' },
      { kind: 'target', account: ACCOUNT, region: OTHER_REGION, id: 'run-7' },
      { kind: 'target', account: MEMBER, region: REGION, id: 'run-7' },
      { kind: 'target', account: MEMBER, region: OTHER_REGION, id: 'run-7' },
    ]);
    for (const target of sweepTargetsOf(result)) expect(parseSweepInput(target).kind).toBe('target');
  });

  it("the schedule of a hub returns the targets, named after the schedule's event", async () => {
    const scheduled = {
      version: '0',
      id: 'b3f1c0de-0000-4000-8000-000000000009',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-11-27T12:00:00Z',
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/sweep`],
      detail: {},
    };
    const result = await sweepStep(deps(config, access()), nothingStarts)(scheduled);
    expect(result.kind).toBe('targets');
    expect(sweepTargetsOf(result)[0]).toEqual({
      kind: 'target',
      account: ACCOUNT,
      region: REGION,
      id: scheduled.id,
      requestedBy: scheduled.resources[0],
    });
  });

  it('a target or a dependency event in an account the hub does not guard: nothing read, nothing started', async () => {
    const accounts = access();
    const sweep = sweepStep(deps(config, accounts), nothingStarts);
    const target = await sweep({ kind: 'target', account: STRANGER, region: REGION });
    expect(target).toMatchObject({ kind: 'target', account: STRANGER, started: 0, trails: [] });
    expect(target.reason).toContain(`account ${STRANGER} is not guarded by this hub`);
    const roleEvent = {
      ...stopLogging(STRANGER),
      source: 'aws.iam',
      detail: {
        ...(stopLogging(STRANGER).detail as Record<string, unknown>),
        eventSource: 'iam.amazonaws.com',
        eventName: 'DeleteRole',
        requestParameters: { roleName: 'delivery' },
      },
    };
    const fanOut = await sweep(roleEvent);
    expect(fanOut).toMatchObject({ kind: 'dependency', account: STRANGER, started: 0 });
    expect(fanOut.reason).toContain(`nothing started: account ${STRANGER} is not guarded by this hub`);
    expect(accounts.asked).toEqual([]);
  });
});

describe('a single account: which regions its sweep and its IAM fan-out cover', () => {
  /** Clients that answer ListTrails/DescribeTrails with no trail, record the regions asked, and fail on anything else. */
  function trailListingClients() {
    const regions: string[] = [];
    const clients = new Proxy({} as AwsClients, {
      get: (_, key) => {
        if (key === 'defaultRegion') return REGION;
        if (key === 'then') return undefined; // not a promise
        if (key === 'cloudTrail') {
          return (region?: string) => {
            regions.push(region ?? REGION);
            return { send: async () => ({ trailList: [], Trails: [] }) };
          };
        }
        return () => {
          throw new Error(`unexpected AWS client ${String(key)}()`);
        };
      },
    });
    return { clients, regions };
  }
  const roleEvent = (account: string) => ({
    ...stopLogging(account),
    source: 'aws.iam',
    region: 'us-east-1',
    detail: {
      ...(stopLogging(account).detail as Record<string, unknown>),
      eventSource: 'iam.amazonaws.com',
      eventName: 'DeleteRolePolicy',
      requestParameters: { roleName: 'delivery', policyName: 'p' },
    },
  });

  it('with regions: the schedule lists the targets (its own account x the regions) for the organization sweep, no AWS call', async () => {
    const config = { regions: [REGION, OTHER_REGION] };
    const scheduled = {
      version: '0',
      id: 'b3f1c0de-0000-4000-8000-000000000010',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-11-27T12:00:00Z',
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/sweep`],
      detail: {},
    };
    const result = await sweepStep(deps(config), nothingStarts)(scheduled);
    expect(result).toMatchObject({ kind: 'targets', accounts: [ACCOUNT], regions: [REGION, OTHER_REGION] });
    expect(sweepTargetsOf(result).map((t) => t.region)).toEqual([REGION, OTHER_REGION]);
  });

  it('with regions: an IAM change is looked for in every configured region', async () => {
    const { clients, regions } = trailListingClients();
    const config = parseConfig({ regions: [REGION, OTHER_REGION] });
    await sweepStep({ ...deps({}), config, clients }, nothingStarts)(roleEvent(ACCOUNT));
    expect(regions.sort()).toEqual([REGION, OTHER_REGION].sort());
  });

  it('without regions: an IAM change is looked for in the region its stack runs in only (no listing of the enabled regions, which it may not call)', async () => {
    const { clients, regions } = trailListingClients();
    await sweepStep({ ...deps({}), clients }, nothingStarts)(roleEvent(ACCOUNT));
    expect(regions).toEqual([REGION]);
  });
});

describe('which member role each hub function assumes', () => {
  /** Hub clients whose STS records each AssumeRole's role ARN and answers with credentials (no AWS). */
  function recordingHub(): { hub: AwsClients; roleArns: string[] } {
    const roleArns: string[] = [];
    const sts = {
      send: async (command: { input: { RoleArn: string } }) => {
        roleArns.push(command.input.RoleArn);
        return {
          Credentials: {
            AccessKeyId: 'AKIA',
            SecretAccessKey: 'secret',
            SessionToken: 'token',
            Expiration: new Date(Date.now() + 3_600_000),
          },
        };
      },
    };
    const hub = new Proxy({} as AwsClients, {
      get: (_, key) => (key === 'defaultRegion' ? REGION : key === 'sts' ? () => sts : undefined),
    });
    return { hub, roleArns };
  }

  it('its own (MEMBER_ROLE_OF): the read-only role for Check, Verify, CheckDelivery and anything unnamed; one per restore step; UpdateFindings its own; each once per account', async () => {
    const expected: Record<string, string> = {
      Check: 'tg-read',
      Verify: 'tg-read',
      CheckDelivery: 'tg-read',
      Sweep: 'tg-read',
      RestoreLogGroup: 'tg-log-group',
      RestoreRole: 'tg-role',
      RestoreTrail: 'tg-trail',
      UpdateFindings: 'tg-findings',
    };
    for (const fn of FUNCTION_NAMES) {
      const fresh = recordingHub();
      const access = accountAccess(fresh.hub, { hubAccount: ACCOUNT, roleName: 'tg' });
      await clientsIn({ clients: fresh.hub, accounts: access }, MEMBER, fn);
      // Notify and Audit act only in the hub; asked anyway, they would get the read-only role.
      expect(fresh.roleArns, fn).toEqual([`arn:aws:iam::${MEMBER}:role/${expected[fn] ?? 'tg-read'}`]);
    }
    const { hub, roleArns } = recordingHub();
    const accounts = accountAccess(hub, { hubAccount: ACCOUNT, roleName: 'tg' });
    for (const fn of FUNCTION_NAMES) {
      await clientsIn({ clients: hub, accounts }, MEMBER, fn);
      await clientsIn({ clients: hub, accounts }, MEMBER, fn);
    }
    // Without a function: the read-only role (the sweep's and the CLI's reads).
    await clientsIn({ clients: hub, accounts }, MEMBER);
    expect([...new Set(roleArns)].sort()).toEqual(
      ['tg-findings', 'tg-log-group', 'tg-read', 'tg-role', 'tg-trail'].map(
        (name) => `arn:aws:iam::${MEMBER}:role/${name}`,
      ),
    );
    // Cached per account and role: five roles, five AssumeRole calls.
    expect(roleArns).toHaveLength(5);
    expect(accounts.assumed.get(MEMBER)).toBe(5);
    // The hub's own account: its own clients, nothing assumed.
    expect(await clientsIn({ clients: hub, accounts }, ACCOUNT, 'RestoreTrail')).toBe(hub);
    expect(roleArns).toHaveLength(5);
  });
});
