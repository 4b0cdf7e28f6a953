/**
 * Secrets and channels (issue 7, defect 9): TLS settings need a TLS URL, a password does not cross the network
 * in clear unless allowed, and no password (in the URL or not, with '@', ':' or '/') reaches `config check`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, redactConfig } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-secrets-'));
  writeFileSync(join(dir, 'ca.crt'), 'not checked here\n');
  writeFileSync(join(dir, 'pw.txt'), 'from-a-file\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(overrides: Record<string, unknown>): readonly string[] {
  try {
    loadConfig({ env: {}, cwd: dir, overrides });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('mqtt.tls.* with a plain mqtt://, tcp:// or ws:// URL is refused, naming the setting and mqtts://', () => {
  for (const url of ['mqtt://broker.lan:1883', 'tcp://127.0.0.1:1883', 'ws://broker.lan/mqtt']) {
    const problems = problemsOf({ 'mqtt.url': url, 'mqtt.tls.ca': 'ca.crt' });
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^mqtt\.tls\.ca: set, but mqtt\.url is plain (mqtt|tcp|ws):\/\/ .*\(use (mqtts|wss):\/\//);
  }
  assert.match(problemsOf({ 'mqtt.url': 'mqtt://127.0.0.1', 'mqtt.tls.rejectUnauthorized': false })[0], /^mqtt\.tls\.rejectUnauthorized: set, but mqtt\.url is plain/);
  assert.match(problemsOf({ 'mqtt.tls.ca': 'ca.crt' })[0], /^mqtt\.tls\.ca: TLS applies to an external broker only/);
  assert.deepEqual(problemsOf({ 'mqtt.url': 'mqtts://broker.lan:8883', 'mqtt.tls.ca': 'ca.crt' }), []);
});

test('a password over plain TCP to another machine is refused unless mqtt.allowPlaintextPassword is set', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ 'mqtt.url': 'mqtt://broker.lan:1883', 'mqtt.username': 'hub', 'mqtt.password': 'pw' }, 'mqtt.password'],
    [{ 'mqtt.url': 'mqtt://192.168.1.10', 'mqtt.passwordFile': 'pw.txt' }, 'mqtt.passwordFile'],
    [{ 'mqtt.url': 'ws://hub:pw@broker.lan/mqtt' }, 'mqtt.url'],
  ];
  for (const [overrides, setting] of cases) {
    const problems = problemsOf(overrides);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.ok(problems[0].startsWith(`${setting}: the password would cross the network in clear text`), problems[0]);
    assert.match(problems[0], /mqtt\.allowPlaintextPassword: true/);
    assert.equal(problems[0].includes('pw'), false, 'the message may not repeat the password');
    assert.deepEqual(problemsOf({ ...overrides, 'mqtt.allowPlaintextPassword': true }), []);
  }
  // Loopback stays on the machine; TLS protects the rest.
  assert.deepEqual(problemsOf({ 'mqtt.url': 'mqtt://127.0.0.1:1883', 'mqtt.password': 'pw' }), []);
  assert.deepEqual(problemsOf({ 'mqtt.url': 'mqtt://localhost', 'mqtt.password': 'pw' }), []);
  assert.deepEqual(problemsOf({ 'mqtt.url': 'mqtts://broker.lan', 'mqtt.password': 'pw' }), []);
  assert.deepEqual(problemsOf({ 'mqtt.url': 'mqtt://broker.lan' }), [], 'no password, nothing to protect');
});

test('the backoff cap may not be below the first delay', () => {
  assert.match(problemsOf({ 'mqtt.reconnectPeriodMs': 5000, 'mqtt.reconnectMaxMs': 1000 })[0], /^mqtt\.reconnectMaxMs: 1000 is below mqtt\.reconnectPeriodMs/);
});

const PASSWORDS = ['K7q@Z9x', 'J4a:W8b:Q2c', 'V6x/Y3q', 'P5q@Z1s:W7v/R2d', 'E8w9@', 'U4u?E6y#F1g'];
const piecesOf = (pw: string, written: string) => [pw, written, ...pw.split(/[@:/?#]/).filter((p) => p.length >= 2)];

test('redactConfig and every config error hide each part of a URL password holding "@", ":" or "/", encoded or not', () => {
  for (const pw of PASSWORDS) {
    for (const written of [encodeURIComponent(pw), pw]) {
      const url = `mqtt://hub:${written}@127.0.0.1:1883`;
      let shown: string;
      try {
        shown = JSON.stringify(redactConfig(loadConfig({ env: { HUBNLU_MQTT_URL: url }, cwd: dir }).config));
        assert.match(shown, /\[redacted\]/);
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        shown = err.message;
        assert.match(shown, /mqtt\.url: .*percent-encode/);
      }
      for (const part of piecesOf(pw, written)) assert.equal(shown.includes(part), false, `${url}: "${part}" shown in ${shown}`);
    }
  }
});

test('config check, text and JSON, as a process: no part of the password on stdout or stderr', { timeout: 120_000 }, () => {
  // Raw '@' (parses), percent-encoded '/' and ':' (parses), raw '/' (refused: it cuts the password short).
  for (const [pw, written] of [['P5q@Z1s', 'P5q@Z1s'], ['P5q@Z1s:W7v/R2d', encodeURIComponent('P5q@Z1s:W7v/R2d')], ['V6x/Y3q', 'V6x/Y3q']]) {
    const url = `mqtt://hub:${written}@127.0.0.1:1883`;
    for (const args of [['config', 'check'], ['config', 'check', '--json']]) {
      const r = runCli(args, { cwd: dir, env: { HUBNLU_MQTT_URL: url } });
      const out = r.stdout + r.stderr;
      for (const part of piecesOf(pw, written)) assert.equal(out.includes(part), false, `${args.join(' ')} with ${url} printed "${part}":\n${out}`);
      if (pw.includes('/') && written === pw) {
        assert.equal(r.status, 2, out);
        assert.match(r.stderr, /mqtt\.url: .*percent-encode/);
      } else {
        assert.equal(r.status, 0, out);
        assert.match(out, /mqtt:\/\/hub:\[redacted\]@127\.0\.0\.1:1883/);
      }
    }
  }
});
