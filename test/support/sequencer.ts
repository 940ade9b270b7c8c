/**
 * The order in which the one pool of workers takes the test files (test/support/workers.ts): files that failed
 * last time first, then the longest first by the last run's duration, across projects. vitest's own sequencer
 * orders by project name first, which would leave the unit project's CPU-heavy syntheses for the end, when
 * there is nothing left to overlap them with. Files with no recorded duration (a clean checkout) go first,
 * largest first.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const key = (spec: TestSpecification) => `${spec.project.name}:${relative(config.root, spec.moduleId)}`;
    const rank = (spec: TestSpecification) => {
      const result = cache.getFileTestResults(key(spec));
      if (!result) return { known: 0, failed: 0, weight: cache.getFileStats(key(spec))?.size ?? 0 };
      return { known: 1, failed: result.failed ? 1 : 0, weight: result.duration };
    };
    const ranked = files.map((spec) => ({ spec, ...rank(spec) }));
    ranked.sort((a, b) => a.known - b.known || b.failed - a.failed || b.weight - a.weight);
    return ranked.map((r) => r.spec);
  }
}
