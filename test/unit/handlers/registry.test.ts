import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_ENTRIES, STEPS } from '../../../services/handlers/registry.js';

const root = resolve(import.meta.dirname, '../../..');

describe('registry', () => {
  it('names one handler file per step, each exporting the step core and a Lambda handler', async () => {
    expect(Object.keys(STEP_ENTRIES).sort()).toEqual(Object.keys(STEPS).sort());
    expect(Object.keys(STEPS)).toEqual([
      'Check',
      'RestoreLogGroup',
      'RestoreRole',
      'RestoreTrail',
      'Verify',
      'Notify',
      'UpdateFindings',
      'Audit',
      'CheckDelivery',
    ]);
    for (const [step, entry] of Object.entries(STEP_ENTRIES)) {
      expect(existsSync(resolve(root, entry)), entry).toBe(true);
      const mod = (await import(resolve(root, entry))) as Record<string, unknown>;
      expect(typeof mod.handler, `${step} handler`).toBe('function');
      expect(Object.values(mod)).toContain(STEPS[step as keyof typeof STEPS]);
    }
  });
});
