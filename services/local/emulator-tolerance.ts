/**
 * What the local emulator does differently from AWS, tolerated here and only here (never in a Lambda bundle:
 * nothing under services/aws/ or services/handlers/ imports this file).
 *
 * moto 5.2.1 has no AssociateKmsKey, GetDataProtectionPolicy or PutDataProtectionPolicy: its server raises
 * NotImplementedError and answers HTTP 500 with Werkzeug's HTML page ("500 Internal Server Error") and no request
 * id; the SDK then throws a deserialization error (name `SyntaxError`, `$metadata.httpStatusCode` 500, no
 * `$fault`). On AWS such an answer is a transient server error and is retried (services/aws/log-group-snapshot.ts
 * recognizes only AWS's own "unknown operation" answers); against the emulator the log group snapshot records the
 * item as unreadable or not restored instead.
 */
import { setEmulatorUnsupportedApi } from '../aws/log-group-snapshot.js';

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** moto's answer to an API it lacks: HTTP 500, an HTML page, no AWS error fault and no AWS request id. */
export function motoUnsupportedApiReason(api: string, error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as {
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string> };
  };
  const headers = e.$response?.headers;
  if (
    e.$metadata?.httpStatusCode === 500 &&
    e.$fault === undefined &&
    header(headers, 'content-type')?.startsWith('text/html') &&
    !header(headers, 'x-amzn-requestid') &&
    !header(headers, 'x-amz-request-id')
  ) {
    return `the endpoint does not implement ${api}: it answered HTTP 500 with an HTML page and no AWS request id instead of an AWS error (how moto 5.2.1 answers an API it lacks)`;
  }
  return undefined;
}

/**
 * Tolerates moto's missing APIs when the SDK points at an emulator (`AWS_ENDPOINT_URL` set: the local runner, the
 * tests, the demo); against real AWS (no endpoint override) nothing is installed. Returns whether it was.
 */
export function tolerateEmulator(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env.AWS_ENDPOINT_URL) return false;
  setEmulatorUnsupportedApi(motoUnsupportedApiReason);
  return true;
}
