/**
 * The embedded broker with `mqtt.embedded.persistence` (issue 7, defect 14):
 * retained messages and the QoS 1 messages queued for a persistent (clean:
 * false) subscriber survive a restart of the broker. Without persistence they
 * do not: the control case shows the test can fail. Real aedes, real LevelDB
 * files, real MQTT clients.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker, EmbeddedBrokerError } from '../../src/transport/embedded-broker.js';
import { createLogger } from '../../src/util/logger.js';

const log = createLogger({ level: 'silent' });
let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'hubnlu-broker-store-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

async function connect(url: string, clientId: string, clean: boolean): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, clean, protocolVersion: 4, reconnectPeriod: 0 });
}

/** Collects what a client receives for `ms` milliseconds after it connects. */
async function receive(url: string, clientId: string, clean: boolean, subscribeTo: string | null, ms: number): Promise<Array<{ topic: string; payload: string; retain: boolean }>> {
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const client = mqtt.connect(url, { clientId, clean, protocolVersion: 4, reconnectPeriod: 0, manualConnect: true });
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  client.connect();
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  if (subscribeTo) await client.subscribeAsync(subscribeTo, { qos: 1 });
  await new Promise((r) => setTimeout(r, ms));
  await client.endAsync();
  return got;
}

/** One broker lifetime: a persistent subscriber goes offline, then retained and queued messages are published. */
async function publishWhileSubscriberAway(broker: EmbeddedBroker): Promise<void> {
  const url = await broker.start();
  const sub = await connect(url, 'kitchen-display', false);
  await sub.subscribeAsync('hubnlu/kitchen/result', { qos: 1 });
  await sub.endAsync();
  const pub = await connect(url, 'publisher', true);
  await pub.publishAsync('hubnlu/bridge/state', '{"state":"online"}', { qos: 1, retain: true });
  await pub.publishAsync('hubnlu/kitchen/result', 'r1', { qos: 1 });
  await pub.publishAsync('hubnlu/kitchen/result', 'r2', { qos: 1 });
  await pub.endAsync();
  await broker.stop();
}

test('with persistence: retained and queued QoS 1 messages survive a broker restart', async () => {
  const store = join(dir, 'broker');
  await publishWhileSubscriberAway(new EmbeddedBroker('127.0.0.1', 0, log, { persistence: store }));

  const restarted = new EmbeddedBroker('127.0.0.1', 0, log, { persistence: store });
  const url = await restarted.start();
  try {
    // The persistent subscriber reconnects without subscribing again: its session and queue were kept.
    const queued = await receive(url, 'kitchen-display', false, null, 500);
    assert.deepEqual(queued.map((m) => m.payload), ['r1', 'r2']);
    const retained = await receive(url, 'dashboard', true, 'hubnlu/bridge/state', 300);
    assert.deepEqual(retained, [{ topic: 'hubnlu/bridge/state', payload: '{"state":"online"}', retain: true }]);
  } finally {
    await restarted.stop();
  }
});

test('without persistence (the default) the same restart loses both', async () => {
  await publishWhileSubscriberAway(new EmbeddedBroker('127.0.0.1', 0, log));
  const restarted = new EmbeddedBroker('127.0.0.1', 0, log);
  const url = await restarted.start();
  try {
    assert.deepEqual(await receive(url, 'kitchen-display', false, null, 300), []);
    assert.deepEqual(await receive(url, 'dashboard', true, 'hubnlu/bridge/state', 300), []);
  } finally {
    await restarted.stop();
  }
});

test('a store another broker holds open: a clear error naming the setting', async () => {
  const store = join(dir, 'locked');
  const first = new EmbeddedBroker('127.0.0.1', 0, log, { persistence: store });
  await first.start();
  try {
    const second = new EmbeddedBroker('127.0.0.1', 0, log, { persistence: store });
    // Held by another process, which may let go: retryable (`hubnlu run` exits 1, not 78).
    await assert.rejects(second.start(), (err: Error) => err instanceof EmbeddedBrokerError && err.retryable && /^mqtt\.embedded\.persistence: cannot open the broker store .*is another hubnlu using it/.test(err.message));
  } finally {
    await first.stop();
  }
});

test('a store directory that cannot be created, or a host that is not this machine: an error naming the setting and the fix', async () => {
  // A path through a regular file cannot be created, whoever runs the test (root included).
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const store = new EmbeddedBroker('127.0.0.1', 0, log, { persistence: join(file, 'store') });
  // Neither is retryable: `hubnlu run` exits 78 (test/cli/run-broker.test.ts).
  await assert.rejects(store.start(), (err: Error) => err instanceof EmbeddedBrokerError && !err.retryable && /^mqtt\.embedded\.persistence: cannot create the broker store directory .*a-file\/store \(ENOTDIR: .*\); choose a directory hubnlu may write/.test(err.message));
  // 192.0.2.1 (TEST-NET-1) is no address of this machine: EADDRNOTAVAIL.
  const host = new EmbeddedBroker('192.0.2.1', 0, log);
  try {
    await assert.rejects(host.start(), (err: Error) => err instanceof EmbeddedBrokerError && !err.retryable && /^mqtt\.embedded\.host: cannot listen on 192\.0\.2\.1:0 \(listen EADDRNOTAVAIL: .*\); use an address of this machine/.test(err.message));
  } finally {
    await host.stop();
  }
});

test('a store directory whose files the broker cannot write: not retryable, naming the setting and the fix', async () => {
  // LevelDB's LOCK file as a directory: the store cannot be opened for writing, whoever runs the test (root included).
  const store = join(dir, 'unwritable');
  mkdirSync(join(store, 'LOCK'), { recursive: true });
  const broker = new EmbeddedBroker('127.0.0.1', 0, log, { persistence: store });
  await assert.rejects(
    broker.start(),
    (err: Error) => err instanceof EmbeddedBrokerError && !err.retryable && /^mqtt\.embedded\.persistence: cannot open the broker store in .*unwritable \(.*\); make the directory and its files writable/.test(err.message),
  );
});

test('a port another process holds: retryable, naming mqtt.embedded.port', async () => {
  const first = new EmbeddedBroker('127.0.0.1', 0, log);
  const url = await first.start();
  try {
    const port = Number(new URL(url).port);
    const second = new EmbeddedBroker('127.0.0.1', port, log);
    try {
      await assert.rejects(second.start(), (err: Error) => err instanceof EmbeddedBrokerError && err.retryable && err.message.startsWith(`mqtt.embedded.port: 127.0.0.1:${port} is already in use`));
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
  }
});

// Binding below 1024 is refused only to an unprivileged user on a kernel that reserves those ports.
const unprivilegedStart = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  } catch {
    return 1024;
  }
})();
const canTestPrivileged = process.getuid?.() !== 0 && unprivilegedStart > 1;
test('a privileged port without privilege: not retryable, naming mqtt.embedded.port and the fix', { skip: canTestPrivileged ? false : 'root, or a kernel that lets anyone bind low ports: nothing refuses port 1' }, async () => {
  const broker = new EmbeddedBroker('127.0.0.1', 1, log);
  try {
    await assert.rejects(broker.start(), (err: Error) => err instanceof EmbeddedBrokerError && !err.retryable && /^mqtt\.embedded\.port: cannot listen on 127\.0\.0\.1:1 .*choose mqtt\.embedded\.port 1024 or above/.test(err.message));
  } finally {
    await broker.stop();
  }
});
