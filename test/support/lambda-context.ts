/** What the Lambda runtime hands a handler, for tests that invoke a Lambda entry in process. */
import type { Context } from 'aws-lambda';

/** The handler environment every step needs (services/handlers/env.ts), in `account` and `region`. */
export function handlerEnv(account = '123456789012', region = 'us-east-1', partition = 'aws') {
  return {
    TRAILGUARD_MODE: 'remediate',
    TRAILGUARD_LOG_GROUP_NAME_TEMPLATE: 'CloudTrail/{trail}',
    TRAILGUARD_RETENTION_DAYS: '90',
    TRAILGUARD_DELIVERY_ROLE_NAME: 'trailguard-cloudtrail-delivery',
    TRAILGUARD_EXEMPT_TAG_KEY: 'trailguard:exempt',
    TRAILGUARD_EXEMPT_TAG_VALUE: 'true',
    TRAILGUARD_TOPIC_ARN: `arn:${partition}:sns:${region}:${account}:trailguard-notifications`,
    TRAILGUARD_AUDIT_TABLE: 'trailguard-audit',
    TRAILGUARD_ACCOUNT_ID: account,
  };
}

/** A Lambda context of function `name` in `functionArn`'s account and region. */
export function lambdaContext(
  name: string,
  functionArn = `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  remainingMs = 30_000,
): Context {
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: '1769',
    awsRequestId: 'req-1',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
