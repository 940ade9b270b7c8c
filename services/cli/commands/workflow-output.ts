/** How replay and remediate print a workflow result: readable text, or one JSON object as the last line. */
import type { FailureSummary, ReplayResult } from '../../local/replay.js';
import { type Output, oneLine } from '../output.js';

/**
 * A failed run's error: the step that failed, the error's name and message. The execution's own error (the
 * Fail state's `TrailguardRemediationFailed`) says nothing more than the outcome, so it is not repeated.
 */
function errorJson(run: ReplayResult): Record<string, unknown> {
  return run.failure ? { error: { ...run.failure } } : {};
}

/** `failed at: RestoreRole — RemediationError: message`. */
export function failureLine(failure: FailureSummary): string {
  return `failed at: ${failure.step ?? '(unknown step)'} — ${failure.name}: ${oneLine(failure.message)}`;
}

/** One run of a fan-out or sweep, machine-readable. */
function runJson(run: ReplayResult): Record<string, unknown> {
  return {
    outcome: run.outcome,
    trail: run.trail,
    findings: run.findings,
    actions: run.actions,
    reason: run.reason,
    ...(run.executionId ? { executionId: run.executionId } : {}),
    ...errorJson(run),
  };
}

/** The machine-readable result: at least outcome, trail, findings and actions (and runs, for a fan-out). */
export function resultJson(result: ReplayResult): Record<string, unknown> {
  return {
    outcome: result.outcome,
    trail: result.trail,
    findings: result.findings,
    actions: result.actions,
    reason: result.reason,
    ...(result.executionId ? { executionId: result.executionId } : {}),
    ...(result.context?.after
      ? {
          after: {
            logGroupArn: result.context.after.state.trail.cloudWatchLogsLogGroupArn ?? null,
            roleArn: result.context.after.state.trail.cloudWatchLogsRoleArn ?? null,
            logging: result.context.after.state.status?.isLogging ?? null,
            findings: result.context.after.findings.map((f) => f.code),
          },
        }
      : {}),
    ...(result.context?.notification ? { notification: result.context.notification } : {}),
    ...(result.context?.audit ? { audit: result.context.audit } : {}),
    ...errorJson(result),
    ...(result.states ? { states: result.states } : {}),
    ...(result.runs ? { runs: result.runs.map(runJson) } : {}),
  };
}

export function printResult(out: Output, result: ReplayResult, json: boolean): void {
  if (json) {
    out.write(`${JSON.stringify(resultJson(result))}\n`);
    return;
  }
  const lines = [
    `outcome:  ${result.outcome}`,
    `trail:    ${result.trail ?? '-'}`,
    `reason:   ${result.reason}`,
  ];
  if (result.failure) lines.push(failureLine(result.failure));
  const before = result.context?.before?.assessment.findings ?? [];
  if (before.length > 0) {
    lines.push('findings:');
    for (const f of before) lines.push(`  - ${f.code}: ${f.message}`);
  }
  if (result.actions.length > 0) {
    lines.push('changes:');
    for (const a of result.actions) lines.push(`  - ${a.step} ${a.api}: ${a.detail}`);
  }
  const after = result.context?.after;
  if (after) {
    lines.push(
      'state after (re-read):',
      `  log group ARN: ${after.state.trail.cloudWatchLogsLogGroupArn ?? '(none)'}`,
      `  role ARN:      ${after.state.trail.cloudWatchLogsRoleArn ?? '(none)'}`,
      `  logging:       ${after.state.status?.isLogging ? 'on' : 'off'}`,
    );
  }
  if (result.context?.notification) lines.push(`email:    ${result.context.notification.subject}`);
  if (result.context?.audit)
    lines.push(`audit:    ${result.context.audit.tableName} / ${result.context.audit.id}`);
  if (result.executionId) lines.push(`execution: ${result.executionId}`);
  if (result.runs) {
    lines.push(`runs:     ${result.runs.length}`);
    for (const run of result.runs) {
      if (run.failure)
        lines.push(`  - ${run.outcome}: ${run.trail ?? '-'}`, `    ${failureLine(run.failure)}`);
      else lines.push(`  - ${run.outcome}: ${run.trail ?? '-'} (${run.reason})`);
      if (run.findings.length > 0) lines.push(`    findings: ${run.findings.join(', ')}`);
      for (const a of run.actions) lines.push(`    change: ${a.step} ${a.api}: ${a.detail}`);
      if (run.executionId) lines.push(`    execution: ${run.executionId}`);
    }
  }
  out.write(`${lines.join('\n')}\n`);
}
