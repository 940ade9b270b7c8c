/**
 * Starts one execution of the remediation workflow (Step Functions StartExecution) for the sweep and the
 * dependency fan-out. Execution names are chosen by the caller and deterministic, so a duplicate event or a
 * retried sweep does not start a second run for the same trail: Step Functions answers a repeated name with
 * the running execution (same input) or ExecutionAlreadyExists (finished), both reported as not started.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { awsErrorName, TrailguardError } from '../domain/errors.js';
import type { StartExecution } from '../domain/sweep.js';
import type { AwsClients } from './clients.js';
import { writeError } from './write-errors.js';

export type { ExecutionRequest, StartExecution, StartedExecution } from '../domain/sweep.js';

/** StartExecution failed permanently (not throttling or a 5xx, which are TransientAwsError). */
export class ExecutionStartError extends TrailguardError {
  override name = 'ExecutionStartError';
}

const EXECUTION_NAME = /^[\w-]{1,80}$/;

/** The ARN Step Functions gives an execution: the state machine's, with `execution` and the name. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** A StartExecution that calls Step Functions for the given state machine. */
export function sfnExecutionStarter(clients: AwsClients, stateMachineArn: string): StartExecution {
  return async ({ name, input }) => {
    if (!EXECUTION_NAME.test(name)) {
      throw new ExecutionStartError(`"${name}" is not a valid execution name (1-80 of A-Z a-z 0-9 _ -)`);
    }
    try {
      const out = await clients
        .sfn()
        .send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return { name, executionArn: out.executionArn ?? executionArnOf(stateMachineArn, name), started: true };
    } catch (error) {
      if (awsErrorName(error) === 'ExecutionAlreadyExists') {
        return { name, executionArn: executionArnOf(stateMachineArn, name), started: false };
      }
      throw writeError(`StartExecution ${name} (trail ${input.trail})`, error, ExecutionStartError);
    }
  };
}
