/**
 * Every command the documentation tells a reader to run is one that exists: each `trailguard` / `npx trailguard`
 * command in README.md and docs/*.md (code blocks and inline code) is checked against the real commander program
 * (services/cli/main.ts buildProgram: its subcommands and their long options, so a command or flag added or
 * renamed by anyone is seen here); each `npx cdk` command against the stack names, context keys and parameters
 * that synth produces; each `aws` command against the SDK's operations (a known service) and, for EventBridge
 * rules, the rule that the bus is named; and every stack output the text names against the outputs synth
 * produces. A renamed flag, stack, parameter or output breaks this test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../infra/app.js';
import { ORGANIZATION_SWEEP_STATES } from '../../../infra/constructs/organization-sweep.js';
import type { ConfigInput } from '../../../policies/config.js';
import { buildProgram } from '../../../services/cli/main.js';
import type { CliIo } from '../../../services/cli/output.js';

const ROOT = join(import.meta.dirname, '../../..');
const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Found {
  file: string;
  line: number;
  text: string;
}

/** Code blocks and inline code spans of a markdown file, continuation lines joined. */
function codeOf(file: string): Found[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const found: Found[] = [];
  let inBlock = false;
  let pending: Found | undefined;
  lines.forEach((raw, i) => {
    if (/^\s*```/.test(raw)) {
      inBlock = !inBlock;
      return;
    }
    if (inBlock) {
      const text = raw.replace(/\s+#\s.*$/, '');
      if (pending) pending.text += ` ${text.trim()}`;
      else pending = { file, line: i + 1, text: text.trim() };
      if (!text.trimEnd().endsWith('\\')) {
        found.push({ ...pending, text: pending.text.replace(/\\\s/g, ' ') });
        pending = undefined;
      }
    }
  });
  // Inline code, also where a span wraps over a line break: each paragraph's lines joined.
  const prose = readFileSync(join(ROOT, file), 'utf8').replace(/^\s*```[^\n]*\n[\s\S]*?^\s*```/gm, '');
  for (const paragraph of prose.split(/\n\s*\n/)) {
    const joined = paragraph.replace(/\s*\n\s*/g, ' ');
    for (const m of joined.matchAll(/`([^`]+)`/g)) found.push({ file, line: 0, text: m[1] ?? '' });
  }
  return found;
}

/** The commands in a piece of code: split at ;, &&, |, $( and ), env assignments and `for ... do` dropped. */
function commandsOf(code: string): string[] {
  return code
    .split(/;|&&|\|\||\$\(|\)|\bdo\b|\bthen\b|(?<!\|)\|(?!\|)/)
    .map((c) => c.trim().replace(/^(?:[A-Z_]+=\S*\s+)+/, ''))
    .filter(Boolean);
}

const ALL = FILES.flatMap(codeOf);
const ALL_COMMANDS = ALL.flatMap((f) => commandsOf(f.text).map((command) => ({ ...f, command })));
const where = (f: Found) => `${f.file}:${f.line}: ${f.text}`;

const io: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {} };

describe('trailguard commands in the docs', () => {
  const program = buildProgram(io);
  const commands = new Map<string, Command>(program.commands.map((c) => [c.name(), c]));
  // `trailguard <word>`: a command (not a sentence of an email such as "trailguard remediated: ...").
  const trailguard = ALL_COMMANDS.filter((c) => /^(npx )?trailguard\s/.test(c.command)).filter(
    (c) => !/^(npx )?trailguard [a-z-]+:/.test(c.command) && !/^npx trailguard \.\.\./.test(c.command),
  );

  it('finds them (the test reads the docs)', () => {
    expect(trailguard.length).toBeGreaterThan(30);
  });

  it('each names a subcommand of the program and only its options', () => {
    const problems: string[] = [];
    for (const c of trailguard) {
      const words = c.command.replace(/^npx /, '').split(/\s+/);
      const sub = words[1] ?? '';
      if (sub.startsWith('--')) continue; // `trailguard --help`
      const command = commands.get(sub);
      if (!command) {
        problems.push(`${where(c)}: no subcommand "${sub}"`);
        continue;
      }
      const longs = new Set([...command.options.map((o) => o.long), '--help']);
      for (const flag of c.command.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)) {
        if (!longs.has(flag[0])) problems.push(`${where(c)}: ${sub} has no option ${flag[0]}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** What synth produces for every shape the docs deploy. */
interface Synthesized {
  stacks: Set<string>;
  outputs: Set<string>;
  parameters: Map<string, Set<string>>;
}

const SHAPES: ConfigInput[] = [
  {},
  { regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'] },
  { accounts: 'organization', regions: ['us-east-1', 'eu-west-1'], hubRegion: 'eu-west-1' },
  { accounts: 'organization', hubRegion: 'eu-west-1' },
  { accounts: ['111122223333'], regions: ['us-east-1'], cisMonitoring: true },
  {
    accounts: 'organization',
    regions: ['us-east-1'],
    preventive: { scp: true, targets: ['r-a1b2'] },
    canary: { accounts: ['111122223333'] },
  },
];

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = { stacks: new Set(), outputs: new Set(), parameters: new Map() };
  for (const config of SHAPES) {
    const { app } = buildApp({ bundling: false, nag: false, config, notificationEmail: 'a@example.com' });
    for (const stack of app.synth().stacks) {
      synthesized.stacks.add(stack.stackName);
      const template = stack.template as { Outputs?: object; Parameters?: object };
      for (const key of Object.keys(template.Outputs ?? {})) synthesized.outputs.add(key);
      const params = synthesized.parameters.get(stack.stackName) ?? new Set<string>();
      for (const key of Object.keys(template.Parameters ?? {})) params.add(key);
      synthesized.parameters.set(stack.stackName, params);
    }
  }
}, 120_000);

/** The context keys infra/bin/app.ts reads. */
const CONTEXT_KEYS = new Set(['notificationEmail', 'config', 'configFile', 'spokeStackSet']);
const CDK_VERBS = new Set(['deploy', 'destroy', 'synth', 'diff', 'bootstrap', 'list', 'ls']);
/** CDK CLI options that take a value (so their value is not a stack name). */
const CDK_VALUED = new Set([
  '-c',
  '--context',
  '--parameters',
  '--profile',
  '-o',
  '--output',
  '--app',
  '--require-approval',
]);

describe('npx cdk commands in the docs', () => {
  const cdk = ALL_COMMANDS.filter((c) => /^npx cdk\s/.test(c.command));

  it('finds them', () => {
    expect(cdk.length).toBeGreaterThan(10);
  });

  it('each names stacks, context keys and parameters that synth produces', () => {
    const problems: string[] = [];
    for (const c of cdk) {
      const words = c.command.split(/\s+/).slice(2);
      const verb = words[0] ?? '';
      if (!CDK_VERBS.has(verb)) problems.push(`${where(c)}: unknown cdk command "${verb}"`);
      for (let i = 1; i < words.length; i++) {
        const word = words[i] ?? '';
        if (word === '...') continue;
        if (CDK_VALUED.has(word)) {
          const value = words[++i] ?? '';
          if (word === '-c' || word === '--context') {
            const key = value.split('=')[0] ?? '';
            if (!CONTEXT_KEYS.has(key)) problems.push(`${where(c)}: unknown context key "${key}"`);
          }
          if (word === '--parameters') {
            const m = /^([\w-]+):(\w+)=/.exec(value);
            if (!m || !synthesized.parameters.get(m[1] ?? '')?.has(m[2] ?? '')) {
              problems.push(`${where(c)}: no parameter ${value.split('=')[0]}`);
            }
          }
          continue;
        }
        if (word.startsWith('-') || word.startsWith("'") || word.startsWith('"')) continue;
        if (verb === 'bootstrap') continue; // its argument is an environment
        if (!synthesized.stacks.has(word)) problems.push(`${where(c)}: no stack "${word}"`);
      }
    }
    expect(problems).toEqual([]);
  });
});

/** AWS CLI service names and the SDK package that models them (services this project uses). */
const SDK_OF: Record<string, string> = {
  cloudformation: '@aws-sdk/client-cloudformation',
  cloudtrail: '@aws-sdk/client-cloudtrail',
  cloudwatch: '@aws-sdk/client-cloudwatch',
  logs: '@aws-sdk/client-cloudwatch-logs',
  dynamodb: '@aws-sdk/client-dynamodb',
  events: '@aws-sdk/client-eventbridge',
  iam: '@aws-sdk/client-iam',
  kms: '@aws-sdk/client-kms',
  lambda: '@aws-sdk/client-lambda',
  organizations: '@aws-sdk/client-organizations',
  securityhub: '@aws-sdk/client-securityhub',
  stepfunctions: '@aws-sdk/client-sfn',
  sns: '@aws-sdk/client-sns',
  sqs: '@aws-sdk/client-sqs',
  sts: '@aws-sdk/client-sts',
};
const load = createRequire(import.meta.url);
const pascal = (kebab: string) => kebab.replace(/(^|-)([a-z0-9])/g, (_, __, ch: string) => ch.toUpperCase());

describe('aws commands in the docs', () => {
  const aws = ALL_COMMANDS.filter((c) => /^aws [a-z0-9-]+ [a-z0-9-]+/.test(c.command));

  it('finds them', () => {
    expect(aws.length).toBeGreaterThan(15);
  });

  it('each is an operation of its service (the SDK has its command)', () => {
    const problems: string[] = [];
    for (const c of aws) {
      const [, service = '', operation = ''] = c.command.split(/\s+/);
      const pkg = SDK_OF[service];
      if (!pkg) continue; // a service this project does not use (e.g. account): not checked
      const exported = load(pkg) as Record<string, unknown>;
      // The AWS CLI's own commands over CloudFormation: deploy and package.
      if (service === 'cloudformation' && ['deploy', 'package'].includes(operation)) continue;
      if (!exported[`${pascal(operation)}Command`])
        problems.push(`${where(c)}: ${service} has no ${operation}`);
    }
    expect(problems).toEqual([]);
  });

  it('every EventBridge rule command names its bus (a hub’s rules are not on the default bus)', () => {
    const rules = aws.filter((c) =>
      /^aws events (list-rules|disable-rule|enable-rule|describe-rule)\b/.test(c.command),
    );
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter((c) => !/--event-bus-name\s/.test(c.command)).map(where)).toEqual([]);
  });
});

describe('stack outputs the docs name', () => {
  it('are outputs that synth produces', () => {
    const named = new Set<string>();
    const sources = FILES.map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
    for (const { text } of sources) {
      for (const m of text.matchAll(/OutputKey=='(\w+)'/g)) named.add(m[1] ?? '');
      for (const m of text.matchAll(/\$\(out (\w+)\)/g)) named.add(m[1] ?? '');
      for (const m of text.matchAll(/outputs?\s+`([A-Z]\w+)`/g)) named.add(m[1] ?? '');
      for (const m of text.matchAll(/`([A-Z]\w+)`\s+output/g)) named.add(m[1] ?? '');
    }
    expect(named.size).toBeGreaterThan(8);
    // State names of the organization sweep ("the execution's `Summarize` output") are not stack outputs.
    const states = new Set<string>(ORGANIZATION_SWEEP_STATES);
    const unknown = [...named].filter(
      (o) => !synthesized.outputs.has(o) && !states.has(o) && !/DeadLetterQueueUrl$/.test(o),
    );
    expect(unknown).toEqual([]);
  });
});
