/**
 * `npm run lint:templates`: synthesizes every configuration shape the product supports (single account, CIS
 * monitoring, the deployed canary, notify-only without Security Hub, a single account guarding several regions, an organization hub
 * with its spoke and the StackSet's spoke template, an organization hub with the preventive SCP) with cdk-nag on, and runs AWS's CloudFormation linter
 * (`cfn-lint`, https://github.com/aws-cloudformation/cfn-lint) on every template of each assembly.
 *
 * cfn-lint is a Python tool and not an npm dependency: this is a developer's check (run before each submission),
 * not part of `npm test`. Exit 0 when every template is free of cfn-lint errors (warnings are printed, and
 * counted), 1 on any error, 2 when cfn-lint is not installed (`pip install cfn-lint`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { SHAPES } from './shapes.js';

function main(): number {
  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    process.stderr.write('error: cfn-lint is not installed (pip install cfn-lint)\n');
    return 2;
  }
  let failed = false;
  for (const [name, config] of Object.entries(SHAPES)) {
    const outdir = mkdtempSync(join(tmpdir(), `trailguard-lint-${name}-`));
    try {
      buildApp({ config, bundling: false, nag: true, outdir }).app.synth();
      // The StackSet's spoke template is written beside the stacks' templates, so every *.template.json is linted.
      const templates = readdirSync(outdir)
        .filter((file) => file.endsWith('.template.json'))
        .map((file) => join(outdir, file));
      const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
      const lines = lint.stdout.split('\n').filter((line) => line.trim() !== '');
      const errors = lines.filter((line) => /:E\d+:/.test(line));
      // Warnings are counted by rule (CDK's explicit DependsOn on a function's role is W3005 in every stack).
      const warnings = new Map<string, number>();
      for (const line of lines.filter((l) => !errors.includes(l))) {
        const rule = /:([WI]\d+):/.exec(line)?.[1] ?? 'other';
        warnings.set(rule, (warnings.get(rule) ?? 0) + 1);
      }
      const warned = [...warnings].map(([rule, count]) => `${rule} x${count}`).join(', ') || 'none';
      process.stdout.write(
        `${name}: ${templates.length} templates, ${errors.length} errors; warnings: ${warned}\n`,
      );
      for (const line of errors) process.stdout.write(`  ${line.replace(`${outdir}/`, '')}\n`);
      if (errors.length > 0 || (lint.status !== 0 && lines.length === 0)) {
        if (lint.stderr) process.stderr.write(lint.stderr);
        failed = true;
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = main();
