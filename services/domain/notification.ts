/**
 * The message a person gets for one run: an SNS subject (at most 100 characters, plain ASCII), a plain-text
 * body that reads well in an email client, and message attributes for subscription filters. Pure. The body
 * holds no links, no secrets and no raw event: only named fields, each cleaned of control characters and
 * capped in length.
 *
 * After a remediated run the delivery check (services/domain/delivery.ts) may send a second message,
 * DELIVERY NOT CONFIRMED (buildDeliveryNotification). Its `outcome` attribute is `delivery-not-confirmed`,
 * not the run's `remediated`: a subscription filter on `outcome` keeps receiving what it received before,
 * and takes the new email only when it lists the new value. Its `deliveryStatus` attribute (`error` or
 * `no-delivery`) lets a filter page on delivery errors only.
 */
import { parseTrailArn } from './arns.js';
import { blockedOf } from './blocked.js';
import { CONTROL_TOWER_REPAIR } from './control-tower.js';
import { classifyDeliveryError, type DeliveryCheck, deliveryTargetOf } from './delivery.js';
import { InvalidInputError } from './errors.js';
import { describeTaskError } from './failure.js';
import { type Finding, severityOf } from './findings.js';
import type { Outcome, Restoration, RunContext } from './run-context.js';
import type { TrailState } from './trail-state.js';

export const SUBJECT_MAX = 100;
const FIELD_MAX = 512;
const LIST_MAX = 50;
const BODY_MAX = 60_000;

export type Severity = 'CRITICAL' | 'HIGH' | 'INFO';

/** The `outcome` attribute of the DELIVERY NOT CONFIRMED email. Not a run outcome: the run stays `remediated`. */
export const DELIVERY_NOT_CONFIRMED = 'delivery-not-confirmed';
/** The values of the `outcome` attribute: a run's outcome, or `delivery-not-confirmed` for the delivery email. */
export type NotificationOutcome = Outcome | typeof DELIVERY_NOT_CONFIRMED;

export interface Notification {
  subject: string;
  body: string;
  /** SNS message attributes, all of DataType String. */
  attributes: {
    outcome: NotificationOutcome;
    severity: Severity;
    trail: string;
    /** The delivery email only: the delivery check's status (`error` or `no-delivery`). */
    deliveryStatus?: 'error' | 'no-delivery';
  };
}

const LABELS: Record<Outcome, string> = {
  remediated: 'REMEDIATED',
  failed: 'FAILED',
  skipped: 'SKIPPED',
  notified: 'ACTION NEEDED',
  compliant: 'COMPLIANT',
};

/**
 * Breaks URL schemes (`https://x` -> `https[:]//x`) so that no email client turns a value the caller chose
 * (a user agent, a session name, an error message quoting a request) into a clickable link.
 */
export function defang(value: string): string {
  return value.replaceAll('://', '[:]//');
}

/** One line of text: control characters (line breaks included) become spaces; links defanged; long values cut. */
export function clean(value: string, max = FIELD_MAX): string {
  const text = defang(value.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')).trim();
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** The severity of a run: from the findings before; a failed run is never below HIGH. */
export function runSeverity(ctx: RunContext): Severity {
  const severity = severityOf(ctx.before?.assessment.findings ?? []);
  return ctx.outcome === 'failed' && severity === 'INFO' ? 'HIGH' : severity;
}

/** The trail's name and home region for people, from what the run knows. */
export function trailLabel(ctx: RunContext): { name: string; region: string; arn?: string } {
  const arn = ctx.trailArn || ctx.before?.state.trail.trailArn || undefined;
  const parsed = (arn ? parseTrailArn(arn) : undefined) ?? parseTrailArn(ctx.trailRef.id);
  const name = ctx.before?.state.trail.name || parsed?.name || ctx.trailRef.id;
  const region = ctx.before?.state.trail.homeRegion || parsed?.region || ctx.trailRef.region;
  return { name, region, ...(arn ? { arn } : {}) };
}

/** `<head><trail name> (<region>)`: printable ASCII only, no line breaks, at most 100 characters. */
function subject(head: string, trailName: string, region: string): string {
  const ascii = (s: string) => defang(s.replace(/[^\x20-\x7e]+/g, '?')).trim();
  const tail = ` (${ascii(region).slice(0, 30)})`;
  let name = ascii(trailName) || 'unknown';
  const room = SUBJECT_MAX - head.length - tail.length;
  if (name.length > room) name = `${name.slice(0, Math.max(0, room - 3))}...`;
  return `${head}${name}${tail}`;
}

/** SNS subjects: printable ASCII only, no line breaks, at most 100 characters. */
export function buildSubject(outcome: Outcome, trailName: string, region: string): string {
  return subject(`[trailguard] ${LABELS[outcome]}: trail `, trailName, region);
}

/** The delivery email's subject: `[trailguard] DELIVERY NOT CONFIRMED: <trail> (<region>)`, within 100 characters. */
export function buildDeliverySubject(trailName: string, region: string): string {
  return subject('[trailguard] DELIVERY NOT CONFIRMED: ', trailName, region);
}

function summary(ctx: RunContext, outcome: Outcome, name: string, region: string): string {
  const trail = `The CloudTrail trail "${clean(name)}" (${clean(region)})`;
  switch (outcome) {
    case 'remediated':
      // protectExistingLogGroups on a compliant trail: only its log group's deletion protection was turned on.
      if (ctx.before?.assessment.verdict === 'compliant') {
        return `${trail} is integrated with CloudWatch Logs. trailguard turned deletion protection on for its log group (protectExistingLogGroups).`;
      }
      return `${trail} was not integrated with CloudWatch Logs. trailguard restored the integration and verified it.`;
    case 'failed':
      return `trailguard could not complete its run for ${trail.replace(/^The/, 'the')}. The trail may still not be integrated with CloudWatch Logs: a person needs to look at it.`;
    case 'notified': {
      const blocked = blockedOf(ctx);
      if (blocked) {
        return `${trail} is not properly integrated with CloudWatch Logs. trailguard's repair was stopped: ${clean(blocked.summary)}. A person needs to act (see "What to do").`;
      }
      return `${trail} is not properly integrated with CloudWatch Logs. trailguard did not change it (${clean(ctx.reason)}): a person needs to fix it.`;
    }
    case 'skipped':
      return `trailguard did not check or change ${trail.replace(/^The/, 'the')}: ${clean(ctx.reason)}.`;
    case 'compliant':
      return `${trail} is integrated with CloudWatch Logs and logging.`;
  }
}

function field(label: string, value: string | undefined, max = FIELD_MAX): string[] {
  return value ? [`  ${`${label}:`.padEnd(20)}${clean(value, max)}`] : [];
}

function list(items: readonly string[], none: string): string[] {
  if (items.length === 0) return [`  ${none}`];
  const shown = items.slice(0, LIST_MAX).map((item) => `  - ${clean(item, 1000)}`);
  if (items.length > LIST_MAX) shown.push(`  ... and ${items.length - LIST_MAX} more`);
  return shown;
}

function findingLines(findings: readonly Finding[]): string[] {
  return list(
    findings.map((f) => `${f.code}: ${f.message}`),
    'none',
  );
}

/** What RestoreLogGroup put back from the sweep's snapshot of the log group, and what it could not. */
function restorationLines(restoration: Restoration): string[] {
  return [
    `  Restored from the snapshot taken ${clean(restoration.snapshotTakenAt)} of ${clean(restoration.snapshotLogGroupName)}:`,
    ...list(restoration.restored, 'nothing').map((l) => `  ${l}`),
    '  Not restored:',
    ...list(
      restoration.notRestored.map((n) => `${n.item}: ${n.reason}`),
      'nothing',
    ).map((l) => `  ${l}`),
  ];
}

function stateLines(state: TrailState): string[] {
  const logging = state.status ? (state.status.isLogging ? 'on' : 'OFF') : 'unknown';
  return [
    ...field('Log group ARN', state.trail.cloudWatchLogsLogGroupArn ?? 'none'),
    ...field('Role ARN', state.trail.cloudWatchLogsRoleArn ?? 'none'),
    ...field('Logging', logging),
  ];
}

function actorLines(ctx: RunContext): string[] {
  const t = ctx.trigger;
  if (t.kind === 'event') {
    const lines = [
      ...field('Actor', t.actorArn ?? 'unknown'),
      ...field('Actor type', t.actorType),
      ...field('Source IP', t.sourceIp),
      ...field(
        'Event',
        t.eventName ? `${t.eventName}${t.eventSource ? ` (${t.eventSource})` : ''}` : undefined,
      ),
      ...field('Event time', t.eventTime),
      ...field('Event ID', t.eventId),
      ...field('User agent', t.userAgent),
      ...field('Event error code', t.errorCode),
    ];
    return lines;
  }
  if (t.kind === 'finding') {
    return [
      ...field('Started by', 'a failed Security Hub CloudTrail.5 finding'),
      ...field('Finding', t.findingId),
      ...field('Finding updated', t.eventTime),
    ];
  }
  return [
    ...field('Started by', t.kind === 'sweep' ? 'the scheduled sweep' : 'a trailguard remediate request'),
    ...field('Requested by', t.actorArn),
  ];
}

/** The email's "Trail" block: name, ARN, region and account, as the run knows them. */
function trailBlock(ctx: RunContext): string[] {
  const { name, region, arn } = trailLabel(ctx);
  const account = ctx.before?.state.accountId ?? ctx.account ?? parseTrailArn(arn ?? '')?.account;
  return [
    'Trail',
    ...field('Name', name),
    ...field('ARN', arn ?? 'unknown'),
    ...field('Region', region),
    ...field('Account', account ?? 'unknown'),
  ];
}

/** Builds the whole message for a run. The run's outcome must be set. */
export function buildNotification(ctx: RunContext): Notification {
  const outcome: Outcome = ctx.outcome ?? 'failed';
  const { name, region, arn } = trailLabel(ctx);
  const severity = runSeverity(ctx);
  const lines: string[] = [
    `trailguard: ${LABELS[outcome]} (severity ${severity})`,
    '',
    summary(ctx, outcome, name, region),
    '',
    ...trailBlock(ctx),
    ...field('Outcome', outcome),
    ...field('Severity', severity),
    ...field('Reason', ctx.reason),
    '',
    'What was wrong',
    ...(ctx.before ? findingLines(ctx.before.assessment.findings) : ['  not assessed']),
    '',
    ctx.trigger.kind === 'event' ? 'Who did it' : 'What started this run',
    ...actorLines(ctx),
    '',
    'What was changed',
    ...list(
      ctx.actions.map((a) => `${a.step}: ${a.api} ${a.resource} - ${a.detail}`),
      'nothing',
    ),
  ];
  if (ctx.restoration) lines.push('', 'Log group restored', ...restorationLines(ctx.restoration));
  if (ctx.before) lines.push('', 'State before', ...stateLines(ctx.before.state));
  if (ctx.after) {
    lines.push(
      '',
      'State after (verified)',
      ...stateLines(ctx.after.state),
      '  Remaining findings:',
      ...findingLines(ctx.after.findings).map((l) => `  ${l}`),
    );
  }
  const blocked = blockedOf(ctx);
  if (blocked) {
    lines.push(
      '',
      blocked.kind === 'kms-key' ? 'Blocked by the KMS key' : 'Blocked by policy',
      ...field('Refused call', blocked.api),
      ...field('Action', blocked.action),
      ...field(
        'Policy type',
        blocked.policyType
          ? `${blocked.policyType} (${blocked.explicit ? 'explicit deny' : 'implicit deny: nothing allows it'})`
          : undefined,
      ),
      ...field('Principal', blocked.principal),
      ...field('KMS key', blocked.kmsKeyArn),
      '',
      'What to do',
      `  ${clean(blocked.nextStep, 4000)}`,
    );
  } else if (ctx.outcome === 'notified' && ctx.before?.assessment.controlTower) {
    lines.push('', 'What to do', `  ${clean(CONTROL_TOWER_REPAIR, 4000)}`);
  }
  if (ctx.error) {
    const error = describeTaskError(ctx.error);
    lines.push(
      '',
      'Error',
      ...field('Failed step', error.step),
      ...field('Name', error.name),
      ...field('Message', error.message, 1000),
    );
  }
  lines.push(
    '',
    'Run',
    ...field('Execution', ctx.execution.id),
    ...field('Started', ctx.execution.startTime),
  );
  let body = `${lines.join('\n')}\n`;
  if (body.length > BODY_MAX) body = `${body.slice(0, BODY_MAX)}\n... (message cut)\n`;
  return {
    subject: buildSubject(outcome, name, region),
    body,
    attributes: { outcome, severity, trail: clean(arn ?? name, 256) },
  };
}

/** The delivery email's severity: HIGH for a delivery error, INFO when nothing was delivered and no error seen. */
export function deliverySeverity(check: DeliveryCheck): Severity {
  return check.status === 'error' ? 'HIGH' : 'INFO';
}

/** The delivery check of a run, when it needs an email (status `error` or `no-delivery`); else InvalidInputError. */
function unconfirmedCheck(ctx: RunContext): DeliveryCheck & { status: 'error' | 'no-delivery' } {
  const check = ctx.deliveryCheck;
  if (!check) throw new InvalidInputError('the delivery email needs a run whose delivery check is set');
  if (check.status === 'confirmed') {
    throw new InvalidInputError('the delivery was confirmed: a confirmed delivery is audited, not emailed');
  }
  return check as DeliveryCheck & { status: 'error' | 'no-delivery' };
}

/**
 * The DELIVERY NOT CONFIRMED email after a remediated run whose delivery check did not confirm delivery: what
 * was fixed and when, how long trailguard waited, what GetTrailStatus said (latest delivery, the delivery
 * error), what the error means and the exact next step. Throws InvalidInputError when the run has no delivery
 * check or the delivery was confirmed (that is audited, not emailed).
 */
export function buildDeliveryNotification(ctx: RunContext): Notification {
  const check = unconfirmedCheck(ctx);
  const { name, region, arn } = trailLabel(ctx);
  const severity = deliverySeverity(check);
  const state = ctx.after?.state ?? ctx.before?.state;
  const cls =
    check.latestDeliveryError && check.finding
      ? classifyDeliveryError(check.latestDeliveryError, region, state ? deliveryTargetOf(state) : {})
      : undefined;
  const cause = cls && cls.code === check.finding?.code ? cls.cause : undefined;
  const lines: string[] = [
    `trailguard: DELIVERY NOT CONFIRMED (severity ${severity})`,
    '',
    clean(check.summary, 2000),
    '',
    ...trailBlock(ctx),
    '',
    'The run this check follows',
    ...field('Execution', ctx.execution.id),
    ...field('Started', ctx.execution.startTime),
    ...field('Outcome', ctx.outcome ?? 'unknown'),
    ...field('Fixed at', check.fixedAt),
    '  What was fixed:',
    ...list(
      ctx.actions.map((a) => `${a.step}: ${a.api} ${a.resource} - ${a.detail}`),
      'nothing',
    ).map((l) => `  ${l}`),
    '',
    'Delivery check',
    ...field('Status', check.status),
    ...field('Waited', `${check.waitedMinutes} minutes`),
    ...field('Checked at', check.checkedAt),
    ...field('Latest delivery', check.latestDeliveryTime ?? 'none reported'),
    ...field('Delivery error', check.latestDeliveryError ?? 'none reported', 1000),
    ...(check.finding
      ? field(
          'Finding',
          `${check.finding.code} (${check.finding.remediable ? 'trailguard fixes this in remediate mode' : 'a person must fix this'})`,
        )
      : []),
    ...field('Cause', cause, 1000),
    '',
    'What to do',
    `  ${clean(check.nextStep ?? 'Run `trailguard check` for this trail.', 4000)}`,
  ];
  let body = `${lines.join('\n')}\n`;
  if (body.length > BODY_MAX) body = `${body.slice(0, BODY_MAX)}\n... (message cut)\n`;
  return {
    subject: buildDeliverySubject(name, region),
    body,
    attributes: {
      outcome: DELIVERY_NOT_CONFIRMED,
      severity,
      trail: clean(arn ?? name, 256),
      deliveryStatus: check.status,
    },
  };
}
