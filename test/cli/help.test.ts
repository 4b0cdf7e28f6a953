import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

const COMMANDS = [
  'run', 'classify', 'logs', 'stats', 'config', 'config check', 'config schema', 'train', 'train-defaults', 'eval',
  'quantize', 'prune', 'label', 'review', 'export', 'report', 'models', 'models list', 'models promote', 'models rollback',
];

test('--help of every command and subcommand: exit 0, its usage line on stdout, nothing on stderr', () => {
  const top = runCli(['--help']);
  assert.equal(top.status, 0, top.stderr);
  // The exit codes of src/cli/exit-codes.ts, every one of them.
  for (const code of ['0', '1', '2', '3', '78']) assert.match(top.stdout, new RegExp(`Exit codes:[^]*\\b${code} `), `exit code ${code} missing:\n${top.stdout}`);
  for (const name of ['run', 'classify', 'logs', 'stats', 'config', 'train', 'train-defaults', 'eval', 'quantize', 'prune', 'label', 'review', 'export', 'report', 'models']) {
    assert.match(top.stdout, new RegExp(`^  ${name}\\b`, 'm'), `hubnlu --help does not list ${name}`);
  }
  for (const command of COMMANDS) {
    const r = runCli([...command.split(' '), '--help']);
    assert.equal(r.status, 0, `hubnlu ${command} --help: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: hubnlu ${command} `, 'm'), `hubnlu ${command} --help:\n${r.stdout}`);
    assert.equal(r.stderr, '', `hubnlu ${command} --help wrote to stderr`);
  }
});

test('an unknown command, also after `help`, is named on stderr with exit 2', () => {
  for (const args of [['frob'], ['help', 'frob'], ['config', 'frob'], ['models', 'frob']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `hubnlu ${args.join(' ')}: exit ${r.status}`);
    assert.match(r.stderr, /unknown command 'frob'/, `hubnlu ${args.join(' ')}:\n${r.stderr}`);
  }
  const known = runCli(['help', 'logs']);
  assert.equal(known.status, 0, known.stderr);
  assert.match(known.stdout, /^Usage: hubnlu logs /m);
});

test('train-defaults --help says what it trains without --only: English, the four other languages and langid', () => {
  const r = runCli(['train-defaults', '--help']);
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout.replace(/\s+/g, ' ');
  for (const word of ['models/intent', 'models/sentiment', 'de, fr, es, zh-cn', 'models/langid']) assert.ok(text.includes(word), `missing ${word}: ${text}`);
});
