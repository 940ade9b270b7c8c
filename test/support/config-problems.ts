import { ConfigError, parseConfig } from '../../policies/config.js';

/** The problems parseConfig finds in `input` (none when it parses); any other error is rethrown. */
export function configProblems(input: Record<string, unknown>): string[] {
  try {
    parseConfig(input);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}
