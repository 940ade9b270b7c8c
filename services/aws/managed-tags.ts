/** The tag the guardrail puts on every resource it creates, so people (and the guardrail) can tell them apart. */
export const MANAGED_TAG_KEY = 'trailguard:managed';
export const MANAGED_TAG_VALUE = 'true';

export function isManaged(tags: Record<string, string> | undefined): boolean {
  return tags?.[MANAGED_TAG_KEY] === MANAGED_TAG_VALUE;
}
