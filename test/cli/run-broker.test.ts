/**
 * `hubnlu run` against brokers that cannot or will not take it (issue 7, defect 6), as processes:
 * a configuration problem at start-up exits 78 (EXIT.needsAttention) naming the setting and the fix; an
 * unreachable broker is retried with backoff and a sparse summary, and READY (the start-up line) comes only
 * once the broker is there. Also (defect 9): a URL password holding '@', ':' and '/' connects, and no part of
 * it reaches the logs or the error output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBroker } from '../../src/transport/embedded-broker.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { startAgentProcess, type AgentProcess } from '../helpers/cli.js';
import { captureLogger } from '../helpers/log-capture.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { haveOpenssl, makeCa, makeServerCert } from '../helpers/pki.js';
import { askAndCollect, connectClient, Recorder } from '../helpers/mqtt.js';

const haveMosquitto = mosquittoPath() !== undefined;
const PASSWORD = 'P5q@Z1s:W7v/R2d';
const PIECES = [PASSWORD, encodeURIComponent(PASSWORD), 'P5q', 'Z1s', 'W7v', 'R2d'];

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'hubnlu-run-broker-'));
}

/** Waits for the process to end (killing it after `ms`) and returns its exit, logs and stderr. */
async function ended(agent: AgentProcess, ms = 30_000): Promise<{ code: number | null; text: string; stderr: string }> {
  let stderr = '';
  agent.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => agent.child.kill('SIGKILL'), ms);
  const exit = await agent.exited;
  clearTimeout(timer);
  return { code: exit.code, text: JSON.stringify(agent.logs), stderr };
}

describe('a broker that refuses the agent at start-up', { skip: haveMosquitto ? false : 'mosquitto not installed' }, () => {
  let broker: Mosquitto;
  before(async () => {
    broker = new Mosquitto({ listener: (port) => [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${join(broker.dir, 'passwd')}`] });
    execFileSync('mosquitto_passwd', ['-b', '-c', join(broker.dir, 'passwd'), 'hub', PASSWORD]);
    await broker.start();
  });
  after(() => broker.stop());

  test('a password with "@", ":" and "/" in the URL connects, answers, and no part of it is logged', { timeout: 60_000 }, async () => {
    const url = `mqtt://hub:${encodeURIComponent(PASSWORD)}@127.0.0.1:${broker.port}`;
    const agent = startAgentProcess({ HUBNLU_MQTT_URL: url, HUBNLU_MQTT_CLIENT_ID: 'url-creds', HUBNLU_STORAGE_PATH: join(scratch(), 'a.db'), HUBNLU_LOG_LEVEL: 'debug' });
    try {
      await agent.ready;
      const probe = await Recorder.connect(broker.url, ['hubnlu/+/result'], { protocolVersion: 5 }).catch(() => undefined);
      assert.equal(probe, undefined, 'the broker must refuse anonymous clients, or this test proves nothing');
      const client = await connectClient(broker.url, { username: 'hub', password: PASSWORD, clientId: 'url-creds-probe' });
      try {
        const got = await askAndCollect(client, 'hubnlu/attic/utterance', 'turn on the attic light');
        assert.ok(got.length > 0, 'no answer');
      } finally {
        await client.endAsync(true);
      }
    } finally {
      agent.child.kill('SIGTERM');
    }
    const { code, text, stderr } = await ended(agent);
    assert.equal(code, 0, stderr);
    assert.match(text, /"msg":"connected to broker"/);
    for (const piece of PIECES) assert.equal((text + stderr).includes(piece), false, `"${piece}" reached the output`);
  });

  test('a wrong password exits 78 naming mqtt.password and the fix, without any part of the password', { timeout: 60_000 }, async () => {
    const wrong = 'Q9r@T3u:V5w/X7y';
    const url = `mqtt://hub:${wrong.replace('/', '%2F')}@127.0.0.1:${broker.port}`;
    const agent = startAgentProcess({ HUBNLU_MQTT_URL: url, HUBNLU_MQTT_PROTOCOL_VERSION: '4', HUBNLU_STORAGE_PATH: join(scratch(), 'b.db'), HUBNLU_LOG_LEVEL: 'debug' });
    const { code, text, stderr } = await ended(agent);
    assert.equal(code, EXIT.needsAttention, stderr);
    assert.match(stderr, /mqtt\.(password|username): .*check mqtt\.username and mqtt\.password|mqtt\.username: .*set mqtt\.username and mqtt\.password/);
    assert.match(stderr + text, /CONNACK (4|5) (Bad username or password|Not authorized)/);
    assert.equal(text.includes('hubnlu listening on'), false, 'READY before a connection');
    for (const piece of [wrong, 'Q9r', 'T3u', 'V5w', 'X7y']) assert.equal((text + stderr).includes(piece), false, `"${piece}" reached the output`);
    assert.ok(agent.logs.filter((l) => l.level === 'error' || l.level === 'fatal').length <= 4, 'a handful of lines, not a retry loop');
  });
});

describe('a broker certificate signed by a CA the agent does not trust', { skip: haveMosquitto && haveOpenssl() ? false : 'mosquitto or openssl missing' }, () => {
  let broker: Mosquitto;
  let otherCa: string;
  before(async () => {
    broker = new Mosquitto({
      listener: (port) => [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        `cafile ${join(broker.dir, 'ca.crt')}`,
        `certfile ${join(broker.dir, 'server.crt')}`,
        `keyfile ${join(broker.dir, 'server.key')}`,
      ],
    });
    makeCa(broker.dir, 'ca');
    makeServerCert(broker.dir, 'ca');
    otherCa = makeCa(broker.dir, 'other-ca');
    await broker.start();
  });
  after(() => broker.stop());

  test('exits 78 naming mqtt.tls.ca', { timeout: 60_000 }, async () => {
    const agent = startAgentProcess({
      HUBNLU_MQTT_URL: `mqtts://127.0.0.1:${broker.port}`,
      HUBNLU_MQTT_TLS_CA: otherCa,
      HUBNLU_STORAGE_PATH: join(scratch(), 'c.db'),
    });
    const { code, text, stderr } = await ended(agent);
    assert.equal(code, EXIT.needsAttention, stderr);
    assert.match(stderr, /mqtt\.tls\.ca: the broker's certificate is not trusted .*set mqtt\.tls\.ca to the PEM file of the CA that signed it/);
    assert.equal(text.includes('hubnlu listening on'), false);
  });
});

describe('MQTT 5 against a broker that speaks 3.1.1 only (aedes)', () => {
  test('exits 78 saying "set mqtt.protocolVersion: 4"', { timeout: 60_000 }, async () => {
    const broker = new EmbeddedBroker('127.0.0.1', 0, captureLogger().log);
    const url = await broker.start();
    try {
      const agent = startAgentProcess({ HUBNLU_MQTT_URL: url, HUBNLU_MQTT_PROTOCOL_VERSION: '5', HUBNLU_STORAGE_PATH: join(scratch(), 'd.db') });
      const { code, stderr } = await ended(agent);
      assert.equal(code, EXIT.needsAttention, stderr);
      assert.match(stderr, /mqtt\.protocolVersion: the broker does not speak MQTT 5: set mqtt\.protocolVersion: 4/);
    } finally {
      await broker.stop();
    }
  });
});

describe('an unreachable broker at start-up', () => {
  test('is retried with backoff at a bounded log rate; READY once it appears', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const agent = startAgentProcess({
      HUBNLU_MQTT_URL: `mqtt://127.0.0.1:${port}`,
      HUBNLU_MQTT_PROTOCOL_VERSION: '4',
      HUBNLU_MQTT_RECONNECT_PERIOD_MS: '100',
      HUBNLU_MQTT_RECONNECT_MAX_MS: '400',
      HUBNLU_STORAGE_PATH: join(scratch(), 'e.db'),
    });
    let broker: EmbeddedBroker | undefined;
    try {
      assert.ok(await waitFor(() => agent.logs.some((l) => String(l.msg).startsWith('cannot reach the broker')), 30_000), 'no first failure logged');
      await sleep(5000); // ~15 attempts at 100..400 ms
      // Each of the agent's two connections (inputs, results) keeps its own account.
      const lines = agent.logs.filter((l) => l.connection === 'inbound' && /^(cannot reach the broker|still no connection)/.test(String(l.msg)));
      const attempts = Math.max(...lines.map((l) => Number(l.attempt)));
      assert.ok(lines[0].msg && /ECONNREFUSED/.test(String(lines[0].msg)), JSON.stringify(lines[0]));
      assert.ok(lines.length <= 2 + Math.log2(Math.max(attempts, 1)), `${lines.length} lines for ${attempts} attempts`);
      const summary = lines.at(-1)!;
      assert.ok(summary.attempt !== undefined && summary.retryInMs !== undefined && /ECONNREFUSED/.test(String(summary.reason)), JSON.stringify(summary));
      assert.equal(agent.logs.some((l) => String(l.msg).startsWith('hubnlu listening on')), false, 'READY without a broker');

      broker = new EmbeddedBroker('127.0.0.1', port, captureLogger().log);
      await broker.start();
      const ready = await Promise.race([agent.ready, sleep(10_000).then(() => undefined)]);
      assert.ok(ready, 'not connected within a few backoff caps of the broker appearing');
      const connected = agent.logs.find((l) => l.msg === 'connected to broker');
      assert.ok(Number(connected?.failedAttempts) >= 8, `failedAttempts ${connected?.failedAttempts}: it did not keep retrying`);
    } finally {
      agent.child.kill('SIGTERM');
      const exit = await agent.exited;
      await broker?.stop();
      assert.equal(exit.code, 0);
    }
  });

  test('SIGTERM while waiting for the broker stops at once with exit 0', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const agent = startAgentProcess({ HUBNLU_MQTT_URL: `mqtt://127.0.0.1:${port}`, HUBNLU_STORAGE_PATH: join(scratch(), 'f.db') });
    assert.ok(await waitFor(() => agent.logs.some((l) => String(l.msg).startsWith('cannot reach the broker')), 30_000));
    const sentAt = Date.now();
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - sentAt < 5000, `took ${Date.now() - sentAt} ms`);
  });
});

describe('an embedded broker that cannot start', () => {
  // A restart cannot give hubnlu a directory it may not create, or an address this machine does not have: exit 78, which
  // the unit's RestartPreventExitStatus=78 keeps from a restart loop. A port another process holds may be freed: exit 1.
  test('a store directory that cannot be created exits 78 naming mqtt.embedded.persistence', { timeout: 60_000 }, async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'a-file'), 'x'); // a path through a regular file cannot be created, whoever runs the test (root included)
    const agent = startAgentProcess({ HUBNLU_MQTT_EMBEDDED_PORT: String(await freePort()), HUBNLU_MQTT_EMBEDDED_PERSISTENCE: join(dir, 'a-file', 'store'), HUBNLU_STORAGE_PATH: join(dir, 'g.db') });
    const { code, stderr } = await ended(agent);
    assert.equal(code, EXIT.needsAttention, stderr);
    assert.match(stderr, /mqtt\.embedded\.persistence: cannot create the broker store directory .*a-file\/store \(ENOTDIR/);
  });

  test('a host that is not an address of this machine exits 78 naming mqtt.embedded.host', { timeout: 60_000 }, async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: EADDRNOTAVAIL.
    const agent = startAgentProcess({ HUBNLU_MQTT_EMBEDDED_HOST: '192.0.2.1', HUBNLU_MQTT_EMBEDDED_PORT: String(await freePort()), HUBNLU_STORAGE_PATH: join(scratch(), 'h.db') });
    const { code, stderr } = await ended(agent);
    assert.equal(code, EXIT.needsAttention, stderr);
    assert.match(stderr, /mqtt\.embedded\.host: cannot listen on 192\.0\.2\.1:\d+ .*use an address of this machine/);
  });

  test('a port another process holds exits 1 (retried: it may be freed), naming mqtt.embedded.port', { timeout: 60_000 }, async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as { port: number }).port;
      const agent = startAgentProcess({ HUBNLU_MQTT_EMBEDDED_PORT: String(port), HUBNLU_STORAGE_PATH: join(scratch(), 'i.db') });
      const { code, stderr } = await ended(agent);
      assert.equal(code, EXIT.failure, stderr);
      assert.match(stderr, new RegExp(`mqtt\\.embedded\\.port: 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
