/** Kinesis streams on the emulator, as subscription filter destinations (tests only). */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { currentCredentials, REGION } from './aws.js';

/** Kinesis over HTTP/1.1: the client's default handler speaks HTTP/2, which moto's server does not. */
function kinesis(): KinesisClient {
  return new KinesisClient({
    region: REGION,
    credentials: currentCredentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
  });
}

/** A Kinesis stream for subscription filters; returns its ARN. */
export async function createStream(name: string): Promise<string> {
  await kinesis().send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  const out = await kinesis().send(new DescribeStreamSummaryCommand({ StreamName: name }));
  const arn = out.StreamDescriptionSummary?.StreamARN;
  if (!arn) throw new Error(`stream ${name} has no ARN`);
  return arn;
}

/** Deletes a stream (a subscription's destination gone). */
export async function deleteStream(name: string): Promise<void> {
  await kinesis().send(new DeleteStreamCommand({ StreamName: name }));
}
