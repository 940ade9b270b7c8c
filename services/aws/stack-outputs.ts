/**
 * A deployed stack's outputs (CloudFormation DescribeStacks, in the clients' default region): how the CLI finds
 * what a deployed trailguard stack holds (its audit table, its sweep) without being told names CloudFormation
 * generated. The workflow's state machine is found the same way (deployed-workflow.ts).
 */
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsErrorName } from '../domain/errors.js';
import type { AwsClients } from './clients.js';
import { DeployedExecutionError, DeployedStackError } from './deployed-workflow.js';

/** The outputs of the stack, by key. DeployedStackError (naming the stack and the region) when it does not exist. */
export async function readStackOutputs(
  clients: AwsClients,
  stackName: string,
): Promise<Record<string, string>> {
  const region = clients.defaultRegion;
  try {
    const { Stacks: stacks } = await clients
      .cloudFormation()
      .send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = stacks?.[0];
    if (!stack) throw new DeployedStackError(`stack "${stackName}" does not exist in ${region}`);
    return Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) => (o.OutputKey ? [[o.OutputKey, o.OutputValue ?? '']] : [])),
    );
  } catch (error) {
    if (error instanceof DeployedStackError) throw error;
    // CloudFormation answers an unknown stack name with a ValidationError "Stack with id NAME does not exist".
    if (awsErrorName(error) === 'ValidationError' && /does not exist/i.test((error as Error).message)) {
      throw new DeployedStackError(
        `stack "${stackName}" does not exist in ${region}: pass --stack NAME (and the stack's region)`,
        { cause: error },
      );
    }
    throw new DeployedExecutionError(
      `DescribeStacks ${stackName} in ${region} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** One output of the stack; DeployedStackError naming the stack, the region and the output when it is missing. */
export async function readStackOutput(clients: AwsClients, stackName: string, key: string): Promise<string> {
  const value = (await readStackOutputs(clients, stackName))[key];
  if (!value) {
    throw new DeployedStackError(
      `stack "${stackName}" in ${clients.defaultRegion} has no ${key} output: is it a trailguard stack, and is its deployment complete?`,
    );
  }
  return value;
}
