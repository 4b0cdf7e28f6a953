/** `hubnlu config check` and `hubnlu config schema`, run as processes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('three different mistakes at once: all listed with path and fix, exit 2', () => {
  const bad = file(
    'bad.yaml',
    ['mqtt:', '  url: ftp://x', 'input:', '  maxPayloadBytes: "big"', 'log:', '  level: loud', 'storage:', '  pth: x.db', ''].join('\n'),
  );
  const r = runCli(['--config', bad, 'config', 'check'], { cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '', 'nothing on stdout when the config is invalid');
  const lines = r.stderr.split('\n');
  const line = (prefix: string) => lines.find((l) => l.trim().startsWith(`- ${prefix}`));
  assert.match(r.stderr, /invalid configuration \(.*bad\.yaml\)/);
  assert.match(line('mqtt.url:') ?? '', /must match pattern .*\(e\.g\. "mqtt:\/\/192\.168\.1\.10:1883"/);
  assert.match(line('input.maxPayloadBytes:') ?? '', /must be integer \(bytes between 64 and 1048576\)/);
  assert.match(line('log.level:') ?? '', /not an allowed value \(one of fatal, error, warn, info, debug, trace, silent\)/);
  assert.match(line('storage.pth:') ?? '', /unknown setting \(did you mean storage\.path\?/);
});

test('the environment counts too: a bad HUBNLU_* value is reported by its setting path', () => {
  const r = runCli(['config', 'check'], { cwd: dir, env: { HUBNLU_MQTT_KEEPALIVE_SECONDS: '1' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /mqtt\.keepaliveSeconds: must be >= 5 \(seconds between 5 and 3600\)/);
  assert.match(r.stderr, /env HUBNLU_MQTT_KEEPALIVE_SECONDS/);
});

test('a valid config: exit 0, "configuration ok", secrets never printed', () => {
  const good = file('good.yaml', ['mqtt:', '  url: mqtt://hub:hunter2@192.168.1.10:1883', '  password: hunter2', '  allowPlaintextPassword: true', 'storage:', '  path: data/x.db', ''].join('\n'));
  const r = runCli(['--config', good, 'config', 'check'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^configuration ok \(.*good\.yaml\)/);
  assert.match(r.stdout, /broker: +mqtt:\/\/hub:\[redacted\]@192\.168\.1\.10:1883/);
  assert.match(r.stdout, /database: data\/x\.db/);
  assert.ok(!r.stdout.includes('hunter2'));

  const json = runCli(['--config', good, 'config', 'check', '--json'], { cwd: dir });
  assert.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; source: string; config: { mqtt: { password: string; url: string }; storage: { path: string } } };
  assert.equal(parsed.ok, true);
  assert.equal(parsed.config.mqtt.password, '[redacted]');
  assert.equal(parsed.config.storage.path, 'data/x.db');
  assert.ok(!json.stdout.includes('hunter2'));
});

test('no config at all: the built-in defaults are ok', () => {
  const r = runCli(['config', 'check'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /configuration ok \(built-in defaults\)/);
  assert.match(r.stdout, /embedded on 127\.0\.0\.1:1883/);
});

test('config schema --json lists every setting with its environment variable', () => {
  const r = runCli(['config', 'schema', '--json'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const settings = JSON.parse(r.stdout) as Array<{ path: string; env: string; type: string; default: unknown; description: string }>;
  const url = settings.find((s) => s.path === 'mqtt.url');
  assert.ok(url, 'mqtt.url is listed');
  assert.equal(url.env, 'HUBNLU_MQTT_URL');
  assert.equal(url.type, 'string');
  assert.deepEqual(settings.find((s) => s.path === 'storage.path')?.default, 'data/hubnlu.db');
  assert.equal(settings.find((s) => s.path === 'input.maxInFlight')?.env, 'HUBNLU_INPUT_MAX_IN_FLIGHT');

  const text = runCli(['config', 'schema'], { cwd: dir });
  assert.equal(text.status, 0);
  assert.match(text.stdout, /^mqtt\.url {2}\(HUBNLU_MQTT_URL; string; default none\)$/m);
});

test('config check looks for the model directories: one that is missing or holds no model is a problem naming its setting (exit 2), as at start', () => {
  const empty = join(dir, 'empty-model');
  mkdirSync(empty, { recursive: true });
  const bad = file('models.yaml', ['models:', '  intent: /nonexistent/intent-model', `  sentiment: ${empty}`, '  shadow:', '    intent: /nonexistent/candidate', ''].join('\n'));
  const r = runCli(['--config', bad, 'config', 'check'], { cwd: dir });
  assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /- models\.intent: no model directory at \/nonexistent\/intent-model \(/);
  assert.match(r.stderr, new RegExp(`- models\\.sentiment: ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds no manifest\\.json`));
  assert.match(r.stderr, /- models\.shadow\.intent: no model directory at \/nonexistent\/candidate/);
  // The shipped defaults resolve against the package, from any working directory.
  assert.equal(runCli(['config', 'check'], { cwd: dir }).status, 0);
});

test('a section given a value instead of its settings: the problem says how to write it', () => {
  const r = runCli(['--config', file('scalar.yaml', 'mqtt: localhost\n'), 'config', 'check'], { cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /- mqtt: must be object \(its settings go on the lines below "mqtt:", indented, e\.g\. "  \w+: [^"]+"; `hubnlu config schema` lists them\)/);
});
