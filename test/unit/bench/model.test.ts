/**
 * The benchmark's pure parts: the minimum call counts (bench/minimum.ts), the time-to-fix and cost model
 * (bench/projection.ts) and the cold-start floor (bench/cold-start.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floorPackages, freshExecution, writeFloor } from '../../../bench/cold-start.js';
import { countByStep, MINIMUM } from '../../../bench/minimum.js';
import {
  ASSUMPTIONS,
  apiLatency,
  costOfRun,
  cpuScale,
  PRICES,
  type RunInput,
  timeToFix,
} from '../../../bench/projection.js';

describe('minimum', () => {
  it('counts each scenario call by call (the totals the benchmark has always used)', () => {
    const totals = Object.fromEntries(Object.entries(MINIMUM).map(([id, calls]) => [id, calls.length]));
    expect(totals).toEqual({
      compliant: 8,
      'LOG_GROUP_ARN_MISSING+ROLE_ARN_MISSING': 23,
      LOG_GROUP_ARN_MALFORMED: 21,
      LOG_GROUP_ARN_FOREIGN: 21,
      LOG_GROUP_MISSING: 23,
      ROLE_ARN_MALFORMED: 20,
      ROLE_ARN_FOREIGN: 20,
      ROLE_MISSING: 19,
      ROLE_TRUST_INVALID: 21,
      ROLE_PERMISSIONS_INSUFFICIENT: 22,
      LOGGING_STOPPED: 21,
      'no-integration+LOGGING_STOPPED': 24,
      'everything-broken': 27,
    });
    expect(countByStep(MINIMUM.LOGGING_STOPPED).RestoreTrail).toEqual({ StartLogging: 1 });
    expect(countByStep(MINIMUM.compliant).Verify).toBeUndefined();
  });
});

const run: RunInput = {
  outcome: 'remediated',
  states: ['Check', 'Decide', 'RestoreTrail', 'Verify', 'Notify', 'Audit'],
  tasks: ['Check', 'RestoreTrail', 'Verify', 'Notify', 'Audit'],
  transitions: 6,
  byStep: {
    Check: { GetTrail: 2 },
    RestoreTrail: { StartLogging: 1 },
    Verify: { GetRole: 1 },
    Notify: { Publish: 1 },
  },
  commands: { GetTrail: 2, StartLogging: 1, GetRole: 1, Publish: 1, PutItem: 1 },
  auditItemBytes: 1500,
};

describe('time to a verified fix', () => {
  it('adds the rule, the transitions up to Verify, and per function its invoke, scaled cold CPU and calls', () => {
    const t = timeToFix(run, { Check: 100, RestoreTrail: 50, Verify: 100, Notify: 1000 }, 1769);
    expect(t.steps).toEqual(['Check', 'RestoreTrail', 'Verify']);
    expect(t.initS).toBeCloseTo(0.25);
    expect(t.callsS).toBeCloseTo((2 * apiLatency('GetTrail') + apiLatency('StartLogging') + 100) / 1000);
    expect(t.workflowS).toBeCloseTo(
      (ASSUMPTIONS.ruleToExecutionMs + 4 * ASSUMPTIONS.perTransitionMs + 3 * ASSUMPTIONS.invokeMs) / 1000,
    );
    expect(t.totalS).toBeCloseTo(t.initS + t.callsS + t.workflowS);
  });

  it('scales CPU by 1,769 MB over the memory, never below one vCPU', () => {
    expect(cpuScale(256)).toBeCloseTo(1769 / 256);
    expect(cpuScale(3538)).toBe(1);
    expect(timeToFix(run, { Check: 100, RestoreTrail: 50, Verify: 100 }, 256).initS).toBeCloseTo(
      (0.25 * 1769) / 256,
    );
  });

  it('refuses a run that never verified', () => {
    expect(() => timeToFix({ ...run, states: ['Check'], tasks: ['Check'] }, {}, 1769)).toThrow(
      /never reached Verify/,
    );
  });
});

describe('cost of a run', () => {
  it('prices transitions, requests, warm duration, one email, the audit write units and INIT apart', () => {
    const c = costOfRun(run, { Check: 100 }, 1024);
    expect(c.stepFunctions).toBeCloseTo(6 * PRICES.stateTransition);
    expect(c.sns).toBeCloseTo(PRICES.snsPublish + PRICES.snsEmailDelivery);
    expect(c.dynamodb).toBeCloseTo(2 * PRICES.dynamoWriteRequestUnit);
    expect(c.coldExtra).toBeCloseTo(1 * ((100 * 1769) / 1024 / 1000) * PRICES.lambdaGbSecondArm64);
    expect(c.total).toBeCloseTo(c.stepFunctions + c.lambda + c.sns + c.dynamodb + c.observability);
  });
});

describe('cold-start floor', () => {
  const dir = join(tmpdir(), `trailguard-floor-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bundleFile = join(dir, 'index.mjs');
  // As esbuild minifies them: SNS imported statically, the DynamoDB packages required where first used.
  writeFileSync(
    bundleFile,
    'import{PublishCommand as P}from"@aws-sdk/client-sns";const x=()=>require("@aws-sdk/lib-dynamodb");',
  );

  const sent = (client: string, command: string, input: unknown = {}) => ({ client, command, input });

  it('is the packages of the clients the step called, with the DynamoDB helper its bundle uses, loaded as the bundle loads them', () => {
    const publish = sent('SNSClient', 'PublishCommand');
    expect(floorPackages([publish, sent('DynamoDBClient', 'PutItemCommand')], bundleFile)).toEqual([
      { name: '@aws-sdk/client-dynamodb', imported: false },
      { name: '@aws-sdk/client-sns', imported: true },
      { name: '@aws-sdk/lib-dynamodb', imported: false },
    ]);
    expect(floorPackages([publish], bundleFile)).toEqual([{ name: '@aws-sdk/client-sns', imported: true }]);
    expect(floorPackages([sent('CloudWatchLogsClient', 'GetLogEventsCommand')], bundleFile)).toEqual([
      { name: '@aws-sdk/client-cloudwatch-logs', imported: false },
    ]);
  });

  it("sends each operation the step sent, once per client, reads with the step's input and writes empty", () => {
    const floorFile = join(dir, 'floor', 'index.mjs');
    const operations = [
      sent('CloudTrailClient', 'GetTrailCommand', { Name: 'org-trail' }),
      sent('IAMClient', 'GetRoleCommand', { RoleName: 'delivery' }),
      sent('CloudTrailClient', 'StartLoggingCommand', { Name: 'org-trail' }),
    ];
    writeFloor(floorFile, operations, [
      { name: '@aws-sdk/client-cloudtrail', imported: true },
      { name: '@aws-sdk/client-iam', imported: false },
    ]);
    const text = readFileSync(floorFile, 'utf8');
    expect(text).toContain("import * as m0 from '@aws-sdk/client-cloudtrail';");
    expect(text).toContain("const m1 = require('@aws-sdk/client-iam');");
    expect(text.match(/new m\d\.\w+Client\(\{\}\)/g)).toEqual([
      'new m0.CloudTrailClient({})',
      'new m1.IAMClient({})',
    ]);
    expect(text.match(/send\(new m\d\.\w+\(.*?\)\)/g)).toEqual([
      'send(new m0.GetTrailCommand({"Name":"org-trail"}))',
      'send(new m1.GetRoleCommand({"RoleName":"delivery"}))',
      'send(new m0.StartLoggingCommand({}))',
    ]);
  });

  it('gives a replayed input a new execution id, everywhere it appears', () => {
    const payload = { execution: { id: 'arn:x:exec', startTime: 't' }, audit: { id: 'arn:x:exec' } };
    expect(freshExecution(payload, 3)).toEqual({
      execution: { id: 'arn:x:exec-cold-3', startTime: 't' },
      audit: { id: 'arn:x:exec-cold-3' },
    });
  });
});
