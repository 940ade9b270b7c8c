/**
 * config.preventive (the optional SCP of an organization hub): targets are roots or OUs in Organizations' id
 * formats (API reference, AttachPolicy TargetId), break-glass roles are IAM role ARNs (never a bare `role/*`),
 * both capped so that the SCP's size stays provable; only a hub may set it. A bad value is refused when the
 * configuration is loaded: exit 2, nothing touched.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BREAK_GLASS_MAX, parseConfig } from '../../../policies/config.js';
import { configProblems } from '../../support/config-problems.js';
import { cli } from '../../support/organization.js';

const HUB = { accounts: 'organization', hubRegion: 'us-east-1' } as const;
const ROOT = 'r-a1b2';
const OU = 'ou-a1b2-c3d4e5f6';

const problems = configProblems;

describe('preventive', () => {
  it('is absent by default, and scp defaults to off with no targets or break-glass roles', () => {
    expect(parseConfig({}).preventive).toBeUndefined();
    expect(parseConfig({ ...HUB, preventive: {} }).preventive).toEqual({
      scp: false,
      targets: [],
      breakGlassRoleArns: [],
    });
  });

  it('accepts roots and OUs, and role ARNs of one account or of every account (wildcards after the first character)', () => {
    const config = parseConfig({
      ...HUB,
      preventive: {
        scp: true,
        targets: [ROOT, OU],
        breakGlassRoleArns: [
          'arn:aws:iam::*:role/BreakGlass',
          'arn:aws-us-gov:iam::111122223333:role/security/BreakGlass',
          'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*',
        ],
      },
    });
    expect(config.preventive?.targets).toEqual([ROOT, OU]);
    expect(config.preventive?.breakGlassRoleArns).toHaveLength(3);
  });

  it('refuses ids that are not a root or an OU (an account id, a policy id, a malformed OU)', () => {
    for (const target of ['111122223333', 'p-abcd1234', 'ou-a1b2', 'r-A1B2', 'o-a1b2c3d4e5']) {
      const found = problems({ ...HUB, preventive: { scp: true, targets: [target] } });
      expect(found, target).toEqual([
        'preventive.targets.0: must be a root id (r-...) or an organizational unit id (ou-...-...)',
      ]);
    }
  });

  it('refuses break-glass values that are not role ARNs, or that would exempt every role', () => {
    for (const arn of [
      'arn:aws:iam::*:role/*',
      'arn:aws:iam::*:role/*Admin',
      'arn:aws:iam::111122223333:user/alice',
      'BreakGlass',
      'arn:aws:iam::1111:role/BreakGlass',
    ]) {
      const found = problems({
        ...HUB,
        preventive: { scp: true, targets: [ROOT], breakGlassRoleArns: [arn] },
      });
      expect(found, arn).toHaveLength(1);
      expect(found[0], arn).toMatch(/^preventive\.breakGlassRoleArns\.0: must be an IAM role ARN/);
    }
  });

  it('caps the break-glass roles in number and length (what bounds the SCP size)', () => {
    const many = Array.from({ length: BREAK_GLASS_MAX.roles + 1 }, (_, i) => `arn:aws:iam::*:role/B${i}`);
    expect(
      problems({ ...HUB, preventive: { scp: true, targets: [ROOT], breakGlassRoleArns: many } }),
    ).toEqual([
      `preventive.breakGlassRoleArns: at most ${BREAK_GLASS_MAX.roles} roles (the SCP's size quota)`,
    ]);
    const long = `arn:aws:iam::*:role/${'b'.repeat(BREAK_GLASS_MAX.length)}`;
    expect(
      problems({ ...HUB, preventive: { scp: true, targets: [ROOT], breakGlassRoleArns: [long] } }),
    ).toEqual([`preventive.breakGlassRoleArns.0: at most ${BREAK_GLASS_MAX.length} characters`]);
  });

  it('needs a hub, targets when scp is on, and no duplicates; unknown keys are refused', () => {
    expect(problems({ preventive: { scp: true, targets: [ROOT] } })).toEqual([
      'preventive: is only used by an organization hub (set accounts: "organization" or a list), where the hub stack can create a service control policy; remove preventive',
    ]);
    expect(problems({ ...HUB, preventive: { scp: true } })).toEqual([
      'preventive.targets: must list at least one root (r-...) or OU (ou-...) id to attach the SCP to',
    ]);
    expect(problems({ ...HUB, preventive: { scp: true, targets: [OU, OU] } })).toEqual([
      `preventive.targets: lists ${OU} twice`,
    ]);
    expect(
      problems({
        ...HUB,
        preventive: {
          scp: true,
          targets: [ROOT],
          breakGlassRoleArns: ['arn:aws:iam::*:role/B', 'arn:aws:iam::*:role/B'],
        },
      }),
    ).toEqual(['preventive.breakGlassRoleArns: lists arn:aws:iam::*:role/B twice']);
    expect(problems({ ...HUB, preventive: { scp: true, targets: [ROOT], target: [OU] } })).toEqual([
      'preventive: Unrecognized key: "target"',
    ]);
  });
});

describe('the CLI with a bad preventive configuration', () => {
  it('exits 2 before touching anything (check, local-setup)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trailguard-preventive-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ ...HUB, preventive: { scp: true, targets: ['p-abcd1234'] } }));
      for (const command of ['check', 'local-setup']) {
        const run = await cli([command, '--config', file]);
        expect(run.code, command).toBe(2);
        expect(run.stderr, command).toContain('preventive.targets.0: must be a root id');
        expect(run.stdout, command).toBe('');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
