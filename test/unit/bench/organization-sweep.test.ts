import { describe, expect, it } from 'vitest';
import {
  type Breakage,
  memberAccounts,
  type OrganizationSweepRun,
  summarizeSweep,
  sweepProblems,
} from '../../../bench/organization-sweep.js';
import type { ReplayResult } from '../../../services/local/replay.js';

const HUB = '123456789012';
const MEMBER = '200001010101';
const REGIONS = ['us-east-1', 'eu-west-1'];
const arn = (account: string, region: string) => `arn:aws:cloudtrail:${region}:${account}:trail/standard`;

/** What sweepLocally returns for a hub and one member in two regions, one trail each. */
function swept(
  verdicts: Record<string, 'compliant' | 'non-compliant'>,
  runs: ReplayResult[] = [],
): ReplayResult {
  return {
    outcome: 'compliant',
    trail: null,
    findings: [],
    actions: [],
    reason: 'swept',
    runs,
    targets: [HUB, MEMBER].flatMap((account) =>
      REGIONS.map((region) => ({
        account,
        region,
        started: 0,
        status: 'swept' as const,
        trails: [
          {
            trail: arn(account, region),
            verdict: verdicts[arn(account, region)] ?? 'compliant',
            reason: '',
          },
        ],
      })),
    ),
  };
}

const run = (trail: string, outcome: ReplayResult['outcome']): ReplayResult => ({
  outcome,
  trail,
  findings: [],
  actions: [],
  reason: '',
});

const measured = (assumed: Record<string, number>) => ({
  wallMs: 1000,
  calls: { AssumeRole: Object.values(assumed).reduce((a, b) => a + b, 0), GetTrail: 4 },
  assumed: new Map(Object.entries(assumed)),
});

const broken: Breakage[] = [{ account: MEMBER, region: 'eu-west-1', how: 'logging stopped' }];

function sweeps(
  withBreakageRuns: ReplayResult[],
  reReadVerdicts: Record<string, 'compliant' | 'non-compliant'> = {},
  assumed: Record<string, number> = { [MEMBER]: 1 },
): OrganizationSweepRun[] {
  return [
    summarizeSweep('compliant', swept({}), measured(assumed)),
    summarizeSweep(
      'with-breakage',
      swept({ [arn(MEMBER, 'eu-west-1')]: 'non-compliant' }, withBreakageRuns),
      measured(assumed),
    ),
    summarizeSweep('re-read', swept(reReadVerdicts), measured(assumed)),
  ];
}

const shape = { broken, accounts: 2, regions: REGIONS, trailsPerAccountRegion: 1 };
const trailArn = (b: Breakage) => arn(b.account, b.region);

describe('bench section 9: the organization sweep', () => {
  it('member account ids are 12 digits, distinct, and never the hub account', () => {
    const ids = memberAccounts(19, '201010101010');
    expect(ids).toHaveLength(19);
    expect(new Set(ids).size).toBe(19);
    expect(ids.every((id) => /^\d{12}$/.test(id))).toBe(true);
    expect(ids).not.toContain('201010101010');
  });

  it('summarizes a sweep: account-regions, trails listed and compliant, runs by outcome, calls and AssumeRoles', () => {
    const s = summarizeSweep(
      'with-breakage',
      swept({ [arn(MEMBER, 'eu-west-1')]: 'non-compliant' }, [run(arn(MEMBER, 'eu-west-1'), 'remediated')]),
      measured({ [MEMBER]: 1 }),
    );
    expect(s).toMatchObject({
      accountRegions: 4,
      trails: 4,
      compliant: 3,
      runs: { remediated: 1 },
      runOutcomes: { [arn(MEMBER, 'eu-west-1')]: 'remediated' },
      total: 5,
      assumeRoles: { [MEMBER]: 1 },
      targetErrors: [],
    });
  });

  it('a sweep that fixed what was broken, re-read compliant, with one AssumeRole per account, has no problems', () => {
    const result = { ...shape, sweeps: sweeps([run(arn(MEMBER, 'eu-west-1'), 'remediated')]) };
    expect(sweepProblems(result, trailArn)).toEqual([]);
  });

  it('reports a broken trail whose run did not end remediated, or never started', () => {
    expect(
      sweepProblems({ ...shape, sweeps: sweeps([run(arn(MEMBER, 'eu-west-1'), 'failed')]) }, trailArn),
    ).toEqual([`logging stopped in ${MEMBER}/eu-west-1: the run ended failed`]);
    expect(sweepProblems({ ...shape, sweeps: sweeps([]) }, trailArn)).toEqual([
      `logging stopped in ${MEMBER}/eu-west-1: the run ended never started`,
      'sweep with-breakage started 0 run(s) for 1 broken trail(s)',
    ]);
  });

  it('reports a trail the re-read does not find compliant, and a second AssumeRole for an account', () => {
    const problems = sweepProblems(
      {
        ...shape,
        sweeps: sweeps(
          [run(arn(MEMBER, 'eu-west-1'), 'remediated')],
          { [arn(HUB, 'us-east-1')]: 'non-compliant' },
          { [MEMBER]: 2 },
        ),
      },
      trailArn,
    );
    expect(problems).toContain('re-read: 1 trail(s) not compliant after the fixes');
    expect(problems).toContain(`sweep compliant: 2 AssumeRole calls for ${MEMBER}`);
  });

  it('reports an account-region that could not be swept', () => {
    const result = swept({});
    const [first] = result.targets ?? [];
    if (first) first.error = { name: 'AccountAccessError', message: 'cannot assume' };
    const s = summarizeSweep('compliant', result, measured({}));
    expect(sweepProblems({ ...shape, sweeps: [s] }, trailArn)).toEqual([
      `sweep compliant: ${HUB}/us-east-1: AccountAccessError: cannot assume`,
    ]);
  });
});
