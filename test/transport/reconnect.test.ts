/**
 * The MQTT connection against a real mosquitto (issue 7, defects 2 and 7): a refused login while running is
 * retried with capped backoff and logged once per change; two clients with one client id are told apart from
 * a broker outage, named in the log, and back off instead of fighting every second.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MqttConnection, type ConnectionSettings } from '../../src/transport/mqtt-connection.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { captureLogger, type LogLine } from '../helpers/log-capture.js';
import { sleep, waitFor } from '../helpers/net.js';

const haveBroker = mosquittoPath() !== undefined;

function settings(url: string, over: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    url,
    clientId: 'reconnect-test',
    protocolVersion: 5,
    sessionExpirySeconds: 60,
    keepaliveSeconds: 30,
    reconnectPeriodMs: 100,
    reconnectMaxMs: 800,
    stateTopic: 'hubnlu-test/bridge/state',
    separatePublisher: false,
    ...over,
  };
}

const connects = (lines: LogLine[]) => lines.filter((l) => l.msg === 'connected to broker').length;

describe('refused login while running (defect 2)', { skip: haveBroker ? false : 'mosquitto not installed' }, () => {
  let broker: Mosquitto;
  const passwd = () => join(broker.dir, 'passwd');
  const setPassword = (pw: string) => execFileSync('mosquitto_passwd', ['-b', '-c', passwd(), 'hub', pw]);

  before(async () => {
    broker = new Mosquitto({ listener: (port) => [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${join(broker.dir, 'passwd')}`] });
    setPassword('right-one');
    await broker.start();
  });
  after(() => broker.stop());

  for (const protocolVersion of [5, 4] as const) {
    test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: password changed on the broker, then restored: retried with backoff, logged once, reconnected`, { timeout: 60_000 }, async () => {
      const { log, lines } = captureLogger();
      const conn = new MqttConnection(settings(broker.url, { protocolVersion, username: 'hub', password: 'right-one', clientId: `refused-${protocolVersion}` }), log);
      try {
        await conn.start(['hubnlu-test/+/utterance'], async () => undefined);
        assert.equal(connects(lines), 1);

        setPassword('changed');
        await broker.stop();
        await broker.start();
        // Let it be refused for a while: at a 100..800 ms backoff that is many attempts.
        const refusedCode = protocolVersion === 5 ? 135 : 5;
        assert.ok(await waitFor(() => lines.some((l) => l.reasonCode === refusedCode), 10_000), `no refusal logged:\n${JSON.stringify(lines)}`);
        await sleep(4000);
        const refusals = lines.filter((l) => l.reasonCode === refusedCode);
        const attempts = Math.max(...refusals.map((l) => Number(l.attempt)));
        assert.ok(attempts >= 5, `only ${attempts} attempts in 4 s: it stopped retrying`);
        const loud = refusals.filter((l) => l.level === 'error' || l.level === 'warn');
        assert.equal(loud.filter((l) => String(l.msg).startsWith('broker refused the connection')).length, 1, 'the refusal is logged once per change');
        assert.ok(loud.length <= 2 + Math.log2(attempts), `${loud.length} warn/error lines for ${attempts} attempts`);
        const first = loud[0];
        assert.equal(first.reasonName, 'Not authorized');
        assert.match(String(first.msg), new RegExp(`CONNACK ${refusedCode} Not authorized`));
        // The backoff grows to its cap and no further.
        const delays = refusals.map((l) => Number(l.retryInMs));
        assert.ok(Math.max(...delays) <= 800, `a delay above the cap: ${Math.max(...delays)}`);
        assert.ok(Math.max(...delays) >= 400, 'the delay never grew');

        setPassword('right-one');
        await broker.stop();
        await broker.start();
        assert.ok(await waitFor(() => connects(lines) === 2, 5000), 'not reconnected within a few backoff caps of the restored password');
        assert.ok(conn.isOnline);
        assert.ok(lines.some((l) => l.msg === 'broker reachable again'));
        assert.equal(JSON.stringify(lines).includes('right-one'), false, 'the password reached the log');
      } finally {
        await conn.stop();
      }
    });
  }
});

describe('two clients with one client id (defect 7)', { skip: haveBroker ? false : 'mosquitto not installed' }, () => {
  let broker: Mosquitto;
  before(async () => {
    broker = new Mosquitto();
    await broker.start();
  });
  after(() => broker.stop());

  for (const protocolVersion of [5, 4] as const) {
    test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: the takeover is named with the fix, and both back off`, { timeout: 60_000 }, async () => {
      const a = captureLogger();
      const b = captureLogger();
      const clientId = `twin-${protocolVersion}`;
      const one = new MqttConnection(settings(broker.url, { protocolVersion, clientId, reconnectPeriodMs: 100, reconnectMaxMs: 1600 }), a.log);
      const two = new MqttConnection(settings(broker.url, { protocolVersion, clientId, reconnectPeriodMs: 100, reconnectMaxMs: 1600 }), b.log);
      try {
        await one.start(['hubnlu-test/+/utterance'], async () => undefined);
        await two.start(['hubnlu-test/+/utterance'], async () => undefined);
        const windowMs = 8000;
        await sleep(windowMs);
        // mosquitto 2.0 closes the old connection without a DISCONNECT 142, in MQTT 5 too: the closes tell.
        const named = [...a.lines, ...b.lines].filter((l) => l.level === 'error' && /^session (probably )?taken over/.test(String(l.msg)));
        assert.ok(named.length >= 1, `no takeover named:\n${a.text()}\n${b.text()}`);
        assert.ok(named.length <= 2, `the takeover was named ${named.length} times: once per client is enough`);
        const message = String(named[0].msg);
        assert.ok(message.includes(`client id "${clientId}"`), message);
        assert.match(message, /its own mqtt\.clientId/);
        assert.match(message, /\$share\//);
        // Fighting every 100 ms would be ~80 connections per client in 8 s; backing off to 1.6 s allows a handful.
        const total = connects(a.lines) + connects(b.lines);
        assert.ok(total <= 24, `${total} connections in ${windowMs} ms: they fight instead of backing off`);
        assert.ok(total >= 4, `${total} connections: no takeover happened at all`);
      } finally {
        await one.stop();
        await two.stop();
      }
    });
  }

  test('a broker restart is not taken for a takeover', { timeout: 30_000 }, async () => {
    const { log, lines } = captureLogger();
    const conn = new MqttConnection(settings(broker.url, { clientId: 'restart-only', protocolVersion: 4 }), log);
    try {
      await conn.start(['hubnlu-test/+/utterance'], async () => undefined);
      for (let i = 0; i < 3; i++) {
        await broker.stop();
        await sleep(500); // down long enough for an attempt to be refused, as in any real restart
        await broker.start();
        assert.ok(await waitFor(() => connects(lines) === i + 2, 5000), `not reconnected after restart ${i + 1}`);
      }
      assert.equal(lines.filter((l) => /taken over/.test(String(l.msg))).length, 0, JSON.stringify(lines));
      assert.ok(lines.some((l) => String(l.msg).startsWith('disconnected from broker; reconnecting in')));
    } finally {
      await conn.stop();
    }
  });
});
