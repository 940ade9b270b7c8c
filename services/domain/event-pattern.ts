/**
 * An EventBridge event-pattern matcher, so that `replay` applies the stack's real rule locally before running
 * the workflow (moto's TestEventPattern is a stub). Supports what EventBridge documents for content filtering:
 * exact values, prefix, suffix, equals-ignore-case, wildcard, anything-but (values, prefix, suffix), exists,
 * numeric ranges and $or, and nested patterns on arrays of objects (e.g. Security Hub's `detail.findings`),
 * which EventBridge matches field by field over all the array's objects. Cross-checked against moto's
 * EventBridge rule matching in the integration tests. Pure.
 */

export type EventPattern = { [key: string]: unknown };

export class InvalidEventPatternError extends Error {
  override name = 'InvalidEventPatternError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function wildcard(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${source}$`, 's').test(value);
}

function numericMatch(spec: unknown[], value: unknown): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const op = spec[i];
    const bound = spec[i + 1];
    if (typeof bound !== 'number') throw new InvalidEventPatternError('numeric bounds must be numbers');
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : (() => {
                    throw new InvalidEventPatternError(`unknown numeric operator ${String(op)}`);
                  })();
    if (!ok) return false;
  }
  return true;
}

/** Whether one scalar event value matches one matcher from a pattern array. `present` is false when absent. */
function matchOne(matcher: unknown, value: unknown, present: boolean): boolean {
  if (!isObject(matcher)) return present && matcher === value;
  const [op, arg] = Object.entries(matcher)[0] ?? [];
  switch (op) {
    case 'exists':
      return arg === present;
    case 'prefix':
      if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string')
        return (
          present &&
          typeof value === 'string' &&
          value.toLowerCase().startsWith(arg['equals-ignore-case'].toLowerCase())
        );
      return present && typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'suffix':
      if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string')
        return (
          present &&
          typeof value === 'string' &&
          value.toLowerCase().endsWith(arg['equals-ignore-case'].toLowerCase())
        );
      return present && typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return (
        present &&
        typeof value === 'string' &&
        typeof arg === 'string' &&
        value.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return present && typeof value === 'string' && typeof arg === 'string' && wildcard(arg, value);
    case 'numeric':
      return present && Array.isArray(arg) && numericMatch(arg, value);
    case 'anything-but': {
      if (!present) return false;
      if (isObject(arg)) return !matchOne(arg, value, present);
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.some((x) => x === value);
    }
    default:
      throw new InvalidEventPatternError(`unsupported matcher ${String(op)}`);
  }
}

/** A field matches when any of its values (an array field: any element) matches any matcher. */
function matchField(matchers: unknown[], value: unknown, present: boolean): boolean {
  const values = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) return matchers.some((m) => matchOne(m, undefined, false));
  return matchers.some((m) => {
    // `exists` and `anything-but` are about the field as a whole, not each element.
    if (isObject(m) && 'exists' in m) return matchOne(m, value, present);
    if (isObject(m) && 'anything-but' in m && Array.isArray(value))
      return values.every((v) => matchOne(m, v, present));
    return values.some((v) => matchOne(m, v, present));
  });
}

/**
 * An array of objects seen as one object whose fields hold every element's values (EventBridge flattens
 * arrays: `findings.Compliance.Status` is the list of all findings' statuses).
 */
function mergeObjects(values: unknown[]): Record<string, unknown> {
  const merged: Record<string, unknown[]> = {};
  for (const value of values) {
    if (!isObject(value)) continue;
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      merged[key] = [...(merged[key] ?? []), ...(Array.isArray(v) ? v : [v])];
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, list] of Object.entries(merged)) {
    out[key] = list.some(isObject) ? mergeObjects(list) : list;
  }
  return out;
}

export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  const data = isObject(event) ? event : {};
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule)) throw new InvalidEventPatternError('$or must be an array of patterns');
      if (!rule.some((branch) => isObject(branch) && matchesEventPattern(branch, data))) return false;
      continue;
    }
    const present = Object.hasOwn(data, key) && data[key] !== undefined;
    const value = present ? data[key] : undefined;
    if (Array.isArray(rule)) {
      if (!matchField(rule, value, present && value !== null ? true : present)) return false;
    } else if (isObject(rule)) {
      if (present && Array.isArray(value) && value.some(isObject)) {
        if (!matchesEventPattern(rule, mergeObjects(value))) return false;
      } else if (!present || !isObject(value)) {
        // A nested pattern on a missing object can still match through `exists: false` leaves.
        if (!matchesEventPattern(rule, {})) return false;
      } else if (!matchesEventPattern(rule, value)) return false;
    } else {
      throw new InvalidEventPatternError(`pattern field "${key}" must be an array or an object`);
    }
  }
  return true;
}
