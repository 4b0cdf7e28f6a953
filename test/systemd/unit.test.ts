/**
 * systemd/hubnlu.service: the restart policy issue 7 (defect 6) asks for, in the sections systemd reads it from,
 * and `systemd-analyze verify` accepting the unit without a warning where the tool is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { EXIT } from '../../src/cli/exit-codes.js';

const UNIT = join(REPO_ROOT, 'systemd', 'hubnlu.service');

/** section → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      current = new Map();
      sections.set(line.slice(1, -1), current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not a key=value line inside a section: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

test('the unit does not restart on exit 78 and limits a crash loop', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service')!;
  const main = unit.get('Unit')!;
  assert.deepEqual(service.get('RestartPreventExitStatus'), [String(EXIT.needsAttention)]);
  // StartLimit* belong in [Unit]: in [Service] systemd ignores them ("Unknown key").
  assert.equal(service.has('StartLimitIntervalSec') || service.has('StartLimitBurst'), false);
  assert.ok(Number(main.get('StartLimitBurst')?.[0]) >= 3);
  assert.ok(main.get('StartLimitIntervalSec')?.[0]);
  const restartSec = service.get('RestartSec')?.[0] ?? '';
  assert.match(restartSec, /^\d+s$/);
  const seconds = Number(restartSec.slice(0, -1));
  assert.ok(seconds >= 3 && seconds <= 60, `RestartSec=${restartSec}`);
  assert.deepEqual(service.get('Type'), ['notify']);
});

const analyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
test('systemd-analyze verify accepts the unit without warnings', { skip: analyze.error ? 'systemd-analyze not installed' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-unit-'));
  const copy = join(dir, 'hubnlu.service');
  copyFileSync(UNIT, copy);
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  // Only what concerns this unit: a container's own units may raise warnings of their own.
  const about = (r.stderr + r.stdout).split('\n').filter((l) => l.includes('hubnlu.service'));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(about, [], about.join('\n'));
});

test('the unit, `npm start` and the benches run the agent with the same node flags and malloc settings', async () => {
  const { AGENT_NODE_FLAGS, AGENT_ENV } = await import('../../bench/agent-settings.js');
  const service = parseUnit(readFileSync(UNIT, 'utf8')).get('Service')!;
  const env = new Map(
    (service.get('Environment') ?? []).map((e) => {
      const kv = e.replace(/^"|"$/g, '');
      return [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const;
    }),
  );
  assert.deepEqual(env.get('NODE_OPTIONS')?.split(' '), [...AGENT_NODE_FLAGS]);
  for (const [k, v] of Object.entries(AGENT_ENV)) assert.equal(env.get(k), v, `${k} in the unit`);
  const start = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.match(start, new RegExp(`node ${AGENT_NODE_FLAGS.join(' ')} dist/src/cli/main\\.js run$`));
  for (const [k, v] of Object.entries(AGENT_ENV)) assert.ok(start.includes(`${k}=${v} `), `${k}=${v} in npm start`);
});
