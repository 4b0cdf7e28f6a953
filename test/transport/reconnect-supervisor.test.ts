/**
 * The supervisor's decisions, driven by a stand-in client that emits what MQTT.js emits (narrow unit test; the
 * behaviour against a real broker is in reconnect.test.ts). Covers what mosquitto 2.0 cannot show: an MQTT 5
 * DISCONNECT 142 from the broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { BrokerSetupError, ReconnectSupervisor, type SupervisorOptions } from '../../src/transport/reconnect-supervisor.js';
import { captureLogger } from '../helpers/log-capture.js';

class FakeClient extends EventEmitter {
  options: { reconnectPeriod?: number } = {};
  ended = false;
  end(): void {
    this.ended = true;
  }
}

function setup(over: Partial<SupervisorOptions> = {}) {
  let now = 0;
  const client = new FakeClient();
  const { log, lines } = captureLogger();
  const supervisor = new ReconnectSupervisor(
    client as unknown as MqttClient,
    { connection: 'inbound', context: { clientId: 'hub-1', protocolVersion: 5, hostname: 'broker.lan', username: 'hub', tls: false }, baseDelayMs: 1000, maxDelayMs: 60_000, random: () => 1, now: () => now, ...over },
    log,
  );
  const fatal: BrokerSetupError[] = [];
  supervisor.start((err) => fatal.push(err));
  return { client, supervisor, lines, fatal, advance: (ms: number) => (now += ms) };
}

const refusal = (code: number) => Object.assign(new Error('Connection refused'), { code });

test('at start-up, refused credentials end the start with the setting and the fix; nothing is retried', () => {
  const { client, fatal } = setup();
  client.emit('error', refusal(134));
  assert.equal(fatal.length, 1);
  assert.equal(fatal[0].setting, 'mqtt.password');
  assert.match(fatal[0].message, /broker said: CONNACK 134 Bad User Name or Password/);
  assert.ok(client.ended, 'the client must stop trying');
});

test('once running, the same refusal is retried with a doubling delay, logged once, then as a sparse summary', () => {
  const { client, supervisor, lines, fatal, advance } = setup();
  client.emit('connect');
  supervisor.markRunning();
  advance(3_600_000);
  client.emit('close'); // the broker went away after an hour
  assert.equal(client.options.reconnectPeriod, 1000, 'a long-held connection starts the backoff over');
  const delays: number[] = [];
  for (let i = 0; i < 64; i++) {
    client.emit('reconnect');
    client.emit('error', refusal(135));
    client.emit('close'); // MQTT.js reports the failure twice: it must count once
    delays.push(client.options.reconnectPeriod!);
    advance(client.options.reconnectPeriod!);
  }
  assert.equal(fatal.length, 0);
  assert.deepEqual(delays.slice(0, 8), [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  const refused = lines.filter((l) => l.reasonCode === 135 && l.level !== 'debug');
  assert.equal(refused.filter((l) => String(l.msg).startsWith('broker refused the connection: CONNACK 135 Not authorized')).length, 1);
  // 64 refusals in about an hour: the first line, then summaries at attempts 2, 4, 8, 16, 32, 64 and every 5 minutes.
  assert.ok(refused.length <= 20, `${refused.length} lines for 64 refusals`);
  assert.ok(refused.some((l) => /^still no connection to the broker: \d+ attempts in \d+ s, last error: CONNACK 135/.test(String(l.msg))));
  client.emit('reconnect');
  client.emit('connect');
  assert.ok(lines.some((l) => l.msg === 'broker reachable again' && l.failedAttempts === 65));
});

test('an MQTT 5 DISCONNECT 142 names the takeover and the fix, and does not reset the backoff', () => {
  const { client, supervisor, lines, advance } = setup();
  client.emit('connect');
  supervisor.markRunning();
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    advance(60_000); // even a connection that held a minute: a takeover is no success
    client.emit('disconnect', { cmd: 'disconnect', reasonCode: 142 });
    client.emit('close');
    delays.push(client.options.reconnectPeriod!);
    client.emit('reconnect');
    client.emit('connect');
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000]);
  const named = lines.filter((l) => /^session taken over/.test(String(l.msg)));
  assert.equal(named.length, 1, 'named once, not on every takeover');
  assert.equal(named[0].level, 'error');
  assert.equal(named[0].reasonCode, 142);
  assert.match(String(named[0].msg), /client id "hub-1".*its own mqtt\.clientId.*\$share\//);
});

test('network failures at start-up are retried, with a summary at a falling rate', () => {
  const { client, lines, fatal, advance } = setup({ baseDelayMs: 100, maxDelayMs: 400 });
  for (let i = 0; i < 100; i++) {
    if (i > 0) client.emit('reconnect');
    client.emit('error', Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:1883'), { code: 'ECONNREFUSED' }));
    client.emit('close');
    advance(client.options.reconnectPeriod!);
  }
  assert.equal(fatal.length, 0);
  const loud = lines.filter((l) => l.level === 'warn');
  assert.ok(loud.length >= 2 && loud.length <= 9, `${loud.length} lines for 100 attempts`);
  assert.match(String(loud[0].msg), /^cannot reach the broker: .*ECONNREFUSED.*; retrying in 0\.1 s/);
  const summary = loud.at(-1)!;
  assert.equal(summary.attempt, 64);
  assert.equal(summary.retryInMs, 400);
  assert.match(String(summary.msg), /64 attempts in \d+ s, last error: .*ECONNREFUSED.*; next retry in 0\.4 s/);
});
