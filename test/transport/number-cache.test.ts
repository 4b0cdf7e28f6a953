/**
 * The agent's MQTT clients do not build mqtt-packet's number cache (issue 10, idle RSS). MQTT.js's default
 * (`writeCache: true`) fills a table of 65,536 two-byte Buffers, one for every 16-bit number it might write, on the
 * first packet it sends: about 6.6 MB of V8 heap for the life of the process, a twentieth of the agent's idle RSS.
 * Checked on a real connection to a real broker (aedes, same process, same mqtt-packet module): after connecting,
 * subscribing and a QoS 1 publish in both directions, the cache is still empty and packets are still well formed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { MqttConnection } from '../../src/transport/mqtt-connection.js';
import { createLogger } from '../../src/util/logger.js';
import { connectClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';

const require = createRequire(import.meta.url);
/** The module MQTT.js and aedes write packets with (one copy in node_modules). */
const numbers = require('mqtt-packet/numbers') as { cache: Record<number, Buffer> };
const log = createLogger({ level: 'silent', sync: true });
let broker: Aedes;
let server: Server;
let url: string;

before(async () => {
  broker = await Aedes.createBroker();
  server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('connect, subscribe and QoS 1 both ways without filling the 65,536-entry number cache', async () => {
  assert.equal(Object.keys(numbers.cache).length, 0, 'nothing has written a packet yet');
  const received: string[] = [];
  const connection = new MqttConnection(
    { url, clientId: 'numcache', protocolVersion: 4, sessionExpirySeconds: 60, keepaliveSeconds: 30, reconnectPeriodMs: 100, stateTopic: 's/numcache/state', separatePublisher: true },
    log,
  );
  await connection.start(['t/numcache/+/in'], (message) => {
    received.push(message.payload.toString());
    return Promise.resolve();
  });
  const peer = await connectClient(url, { clientId: 'numcache-peer', protocolVersion: 4, writeCache: false });
  try {
    await peer.subscribeAsync('t/numcache/out', { qos: 1 });
    const out: string[] = [];
    peer.on('message', (_topic, payload) => out.push(payload.toString()));
    // Packet ids above 255 need both bytes of the 16-bit number: publish enough to get there.
    for (let i = 0; i < 300; i++) await peer.publishAsync(`t/numcache/s${i % 3}/in`, `in-${i}`, { qos: 1 });
    for (let i = 0; i < 300; i++) await connection.publish('t/numcache/out', `out-${i}`, { qos: 1 });
    assert.ok(await waitFor(() => received.length === 300 && out.length === 300, 10_000), `inbound ${received.length}, outbound ${out.length}`);
    assert.deepEqual(received, Array.from({ length: 300 }, (_, i) => `in-${i}`));
    assert.deepEqual(out, Array.from({ length: 300 }, (_, i) => `out-${i}`));
    assert.equal(Object.keys(numbers.cache).length, 0, 'mqtt-packet built its number cache');
  } finally {
    await peer.endAsync();
    await connection.stop();
  }
});
