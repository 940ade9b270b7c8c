/** The key a new log group gets: its account's key for its region, else its region's, else kmsKeyArn. */
import { describe, expect, it } from 'vitest';
import { logGroupKeyArns, parseConfig } from '../../../policies/config.js';
import { LogGroupKeyMissingError } from '../../../services/domain/errors.js';
import { logGroupKeyFor } from '../../../services/domain/log-group-key.js';

const A1 = '444455556666';
const A2 = '777788889999';
const key = (region: string, account: string) =>
  `arn:aws:kms:${region}:${account}:key/abcd1234-12ab-34cd-56ef-1234567890ab`;

describe('logGroupKeyFor', () => {
  const config = parseConfig({
    accounts: [A1, A2],
    regions: ['eu-west-1', 'us-east-1'],
    kmsKeys: {
      'eu-west-1': key('eu-west-1', '111122223333'),
      'us-east-1': key('us-east-1', '111122223333'),
      [A2]: { 'us-east-1': key('us-east-1', A2) },
    },
  });

  it("picks the account's own key for the region, else the region's", () => {
    expect(logGroupKeyFor(config, A1, 'eu-west-1')).toBe(key('eu-west-1', '111122223333'));
    expect(logGroupKeyFor(config, A1, 'us-east-1')).toBe(key('us-east-1', '111122223333'));
    expect(logGroupKeyFor(config, A2, 'eu-west-1')).toBe(key('eu-west-1', '111122223333'));
    expect(logGroupKeyFor(config, A2, 'us-east-1')).toBe(key('us-east-1', A2));
  });

  it('a region kmsKeys does not cover: LogGroupKeyMissingError naming the region', () => {
    expect(() => logGroupKeyFor(config, A1, 'ap-southeast-2')).toThrow(LogGroupKeyMissingError);
    expect(() => logGroupKeyFor(config, A1, 'ap-southeast-2')).toThrow(/no key for ap-southeast-2/);
  });

  it('kmsKeyArn for its region, and no key at all', () => {
    const one = key('eu-west-1', '111122223333');
    expect(logGroupKeyFor(parseConfig({ kmsKeyArn: one }), A1, 'eu-west-1')).toBe(one);
    expect(logGroupKeyFor(parseConfig({}), A1, 'eu-west-1')).toBeUndefined();
  });

  it('logGroupKeyArns lists every configured key once (what IAM lets RestoreLogGroup use)', () => {
    expect(logGroupKeyArns(config)).toEqual([
      key('eu-west-1', '111122223333'),
      key('us-east-1', '111122223333'),
      key('us-east-1', A2),
    ]);
    expect(logGroupKeyArns(parseConfig({}))).toEqual([]);
  });
});
