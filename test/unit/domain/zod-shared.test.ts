import { describe, expect, it } from 'vitest';
import * as z from '../../../policies/zod.js';
import { RunContextSchema } from '../../../services/domain/run-context.js';
import { remediatedContext } from '../../support/run-contexts.js';

describe('shared plain schemas (policies/zod.ts)', () => {
  it('give one instance for z.string(), z.boolean() and each z.optional(schema), and new ones with params', () => {
    expect(z.string()).toBe(z.string());
    expect(z.boolean()).toBe(z.boolean());
    expect(z.optional(z.string())).toBe(z.optional(z.string()));
    expect(z.optional(z.boolean())).not.toBe(z.optional(z.string()));
    expect(z.string('must be text')).not.toBe(z.string());
    expect(z.string('must be text').safeParse(1).error?.issues[0]?.message).toBe('must be text');
  });

  it('a check on a shared string makes a new schema: the other fields keep accepting what they did', () => {
    const short = z.string().check(z.maxLength(3));
    const schema = z.object({ code: short, name: z.string(), note: z.optional(z.string()) });

    expect(schema.parse({ code: 'abc', name: 'a long name', note: 'a long note' })).toEqual({
      code: 'abc',
      name: 'a long name',
      note: 'a long note',
    });
    const issues = schema.safeParse({ code: 'abcd', name: 1, note: 2 }).error?.issues ?? [];
    expect(issues.map((i) => [i.path.join('.'), i.code])).toEqual([
      ['code', 'too_big'],
      ['name', 'invalid_type'],
      ['note', 'invalid_type'],
    ]);
    expect(z.string().safeParse('abcd').success).toBe(true);
  });

  it('the run context still parses and refuses as before, field by field', () => {
    const ctx = remediatedContext();
    expect(RunContextSchema.parse(ctx)).toEqual(ctx);
    const bad = { ...ctx, reason: 7, trailArn: false, trigger: { ...ctx.trigger, actorArn: 3 } };
    const paths = (RunContextSchema.safeParse(bad).error?.issues ?? []).map((i) => i.path.join('.'));
    expect(paths.sort()).toEqual(['reason', 'trailArn', 'trigger.actorArn']);
  });
});
