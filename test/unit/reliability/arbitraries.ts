/**
 * fast-check arbitraries for the reliability properties: CloudTrail events in EventBridge's shape (valid,
 * mutated, truncated, wrongly typed), trail names that AWS accepts but look odd, trail ARNs of every
 * partition, and random damage to any JSON value. Written from AWS's documented rules, not from the
 * product's regular expressions.
 */
import fc from 'fast-check';

export const ACCOUNT = '123456789012';
export const REGIONS = ['us-east-1', 'eu-west-3', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1'] as const;

/**
 * Trail names CloudTrail accepts: 3-128 characters, letters, digits, `.`, `_`, `-`; starting and ending with a
 * letter or digit; no two of `.`, `_`, `-` next to each other. Built from alphanumeric runs joined by single
 * separators, including the odd ones: all digits, dots (`a.b.c`), exactly 3 or exactly 128 characters.
 */
export const trailNameArb: fc.Arbitrary<string> = fc
  .oneof(
    fc
      .tuple(
        fc.array(fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), { minLength: 1, maxLength: 14 }),
        fc.array(fc.constantFrom('.', '_', '-'), { minLength: 13, maxLength: 13 }),
      )
      .map(([runs, seps]) => runs.map((run, i) => (i === 0 ? run : `${seps[i - 1]}${run}`)).join('')),
    fc.constantFrom('abc', '000', 'a.b', 'A-1', 'x_y', 'arn', 'Trail.2026-01_final', 'a'.repeat(128)),
    fc.stringMatching(/^[A-Za-z0-9]{128}$/),
  )
  .filter((name) => name.length >= 3 && name.length <= 128);

/** Names CloudTrail rejects: too short or long, bad first/last character, adjacent separators, other characters. */
export const invalidTrailNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'a',
    'ab',
    'a'.repeat(129),
    '-abc',
    'abc-',
    '.abc',
    'a..b',
    'a_-b',
    'a b',
    'trail/name',
    'tráil',
    'a\nb',
    'arn:aws:cloudtrail:us-east-1:123456789012:trail/',
    'arn:aws:s3:::bucket',
  ),
  fc.string({ minLength: 3, maxLength: 40 }).map((s) => `${s}\u0000`),
  fc.stringMatching(/^[A-Za-z0-9]{129,300}$/),
);

export const accountArb = fc.stringMatching(/^\d{12}$/);

export const partitionOf = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

export const trailArnArb: fc.Arbitrary<{ arn: string; region: string; name: string }> = fc
  .record({ region: fc.constantFrom(...REGIONS), account: accountArb, name: trailNameArb })
  .map(({ region, account, name }) => ({
    arn: `arn:${partitionOf(region)}:cloudtrail:${region}:${account}:trail/${name}`,
    region,
    name,
  }));

/** How an event names its trail: by name in the request, or by ARN in the request or the response. */
export type TrailMention =
  | { where: 'requestParameters.name'; value: string }
  | { where: 'requestParameters.trailName'; value: string }
  | { where: 'responseElements.trailARN'; value: string };

export const TRIGGER_EVENT_NAMES = ['CreateTrail', 'UpdateTrail', 'StopLogging'] as const;
export const eventNameArb = fc.oneof(
  fc.constantFrom(...TRIGGER_EVENT_NAMES, 'DeleteTrail', 'StartLogging', 'PutEventSelectors', 'AddTags'),
  fc.stringMatching(/^[A-Z][A-Za-z]{0,40}$/),
);

export const userIdentityArb = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.record({ type: fc.constant('Root'), arn: fc.constant(`arn:aws:iam::${ACCOUNT}:root`) }),
  fc.record({ type: fc.constant('IAMUser'), arn: fc.constant(`arn:aws:iam::${ACCOUNT}:user/bob`) }),
  fc.record({
    type: fc.constant('AssumedRole'),
    arn: fc.constant(`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`),
    sessionContext: fc.oneof(
      fc.constant(null),
      fc.constant({}),
      fc.constant({ sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/Admin`, userName: 'Admin' } }),
    ),
  }),
);

export interface GeneratedEvent {
  event: Record<string, unknown> & { detail: Record<string, unknown> };
  /** The trail id the event names, as written. */
  trail: string;
  /** The region a reader must ask: the ARN's, else the event's. */
  region: string;
}

/** A well-formed CloudTrail event in EventBridge's shape about a trail named by an odd-but-valid name or ARN. */
export const validEventArb: fc.Arbitrary<GeneratedEvent> = fc
  .record({
    eventName: eventNameArb,
    region: fc.constantFrom(...REGIONS),
    id: fc.uuid(),
    eventID: fc.option(fc.uuid(), { nil: undefined }),
    identity: userIdentityArb,
    byName: trailNameArb,
    byArn: trailArnArb,
    how: fc.constantFrom('name', 'trailName', 'arn-in-request', 'arn-in-response'),
    extraParams: fc.dictionary(
      fc.stringMatching(/^[a-z][A-Za-z]{0,15}$/),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 4 },
    ),
    sourceIp: fc.option(fc.ipV4(), { nil: undefined }),
    userAgent: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
  })
  .map((r) => {
    const requestParameters: Record<string, unknown> = { ...r.extraParams };
    delete requestParameters.name;
    delete requestParameters.trailName;
    let responseElements: Record<string, unknown> | null = null;
    let trail: string;
    let region: string = r.region;
    switch (r.how) {
      case 'name':
        requestParameters.name = r.byName;
        trail = r.byName;
        break;
      case 'trailName':
        requestParameters.trailName = r.byName;
        trail = r.byName;
        break;
      case 'arn-in-request':
        requestParameters.name = r.byArn.arn;
        trail = r.byArn.arn;
        region = r.byArn.region;
        break;
      default:
        responseElements = { trailARN: r.byArn.arn, name: r.byArn.name };
        trail = r.byArn.arn;
        region = r.byArn.region;
    }
    const detail: Record<string, unknown> = {
      eventVersion: '1.09',
      eventTime: '2026-11-20T14:03:11Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: r.eventName,
      awsRegion: r.region,
      requestParameters,
      responseElements,
    };
    if (r.identity !== undefined) detail.userIdentity = r.identity;
    if (r.eventID) detail.eventID = r.eventID;
    if (r.sourceIp) detail.sourceIPAddress = r.sourceIp;
    if (r.userAgent !== undefined) detail.userAgent = r.userAgent;
    const event = {
      version: '0',
      id: r.id,
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.cloudtrail',
      account: ACCOUNT,
      time: '2026-11-20T14:03:11Z',
      region: r.region,
      resources: [],
      detail,
    };
    return { event, trail, region };
  });

/** Every path (list of keys) to a value inside a JSON value, the root excluded. */
export function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

/** A deep copy of `value` with the value at `path` replaced (`remove`: deleted). */
export function withPath(
  value: unknown,
  path: (string | number)[],
  replacement: unknown,
  remove = false,
): unknown {
  const copy: unknown = structuredClone(value);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last === undefined) return replacement;
  if (remove) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

/** A value of the wrong kind for nearly any field: other types, empty, huge, control characters. */
export const wrongValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constant(''),
  fc.constant([]),
  fc.constant({}),
  fc.string(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.nat({ max: 3 }).map((k) => 'x'.repeat([2049, 10_000, 100_000, 1_000_000][k] ?? 2049)),
  fc.constant('\u0000\u202e\r\n<script>'),
);

/** Random damage to a JSON value: delete a path, or give it a wrong value. */
export function mutationArb(value: unknown): fc.Arbitrary<{ path: (string | number)[]; mutated: unknown }> {
  const paths = pathsOf(value);
  return fc
    .record({
      path: fc.constantFrom(...paths),
      remove: fc.boolean(),
      replacement: wrongValueArb,
    })
    .map(({ path, remove, replacement }) => ({ path, mutated: withPath(value, path, replacement, remove) }));
}

/** Cuts an object short: keeps only the first `keep` keys at every level (as a truncated stream would). */
export function truncateObject(value: unknown, keep: number): unknown {
  if (Array.isArray(value)) return value.slice(0, keep).map((v) => truncateObject(v, keep));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, keep)
        .map(([k, v]) => [k, truncateObject(v, keep)]),
    );
  return value;
}
