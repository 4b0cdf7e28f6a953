/**
 * src/transport/mqtt-client.ts loads only the MQTT.js transport a broker URL needs (issue 10, idle RSS): an agent on
 * mqtt:// connects, subscribes and carries QoS 1 both ways over a real broker (aedes, in the child process) without
 * loading the WebSocket or SOCKS packages; TLS and WebSocket URLs and a SOCKS proxy still get MQTT.js's transports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { fileUrl, modulesLoadedBy, packagesOf } from '../helpers/loaded-modules.js';

const dist = (p: string) => JSON.stringify(fileUrl(join(REPO_ROOT, 'dist', 'src', p)));
const TRANSPORT_PACKAGES = ['ws', 'socks', 'ip-address', 'smart-buffer'];

/** A child that runs an MqttConnection against an in-process aedes at `url` (built from its port) and checks QoS 1 both ways. */
const ROUND_TRIP = (protocol: string) => `
const { Aedes } = await import('aedes');
const { createServer } = await import('node:net');
const { MqttConnection } = await import(${dist('transport/mqtt-connection.js')});
const { createLogger } = await import(${dist('util/logger.js')});
const broker = await Aedes.createBroker();
const server = createServer((s) => broker.handle(s));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = '${protocol}://127.0.0.1:' + server.address().port;
const received = [];
const published = [];
broker.on('publish', (p, client) => { if (client && p.topic === 't/mc/out') published.push(p.payload.toString()); });
const c = new MqttConnection({ url, clientId: 'mc', protocolVersion: 4, sessionExpirySeconds: 60, keepaliveSeconds: 30, reconnectPeriodMs: 100, stateTopic: 's/mc/state', separatePublisher: true }, createLogger({ level: 'silent', sync: true }));
await c.start(['t/mc/in'], (m) => { received.push(m.payload.toString()); return Promise.resolve(); });
for (let i = 0; i < 5; i++) await new Promise((r) => broker.publish({ cmd: 'publish', topic: 't/mc/in', payload: Buffer.from('in-' + i), qos: 1, retain: false, dup: false }, r));
for (let i = 0; i < 5; i++) await c.publish('t/mc/out', 'out-' + i, { qos: 1 });
for (let i = 0; i < 200 && received.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
await c.stop();
await new Promise((r) => broker.close(r));
server.close();
if (received.join() !== 'in-0,in-1,in-2,in-3,in-4') throw new Error('inbound: ' + received.join());
if (published.join() !== 'out-0,out-1,out-2,out-3,out-4') throw new Error('outbound: ' + published.join());`;

test('mqtt:// and tcp://: QoS 1 both ways over a real broker, without the WebSocket or SOCKS packages', () => {
  for (const protocol of ['mqtt', 'tcp']) {
    const packages = packagesOf(modulesLoadedBy(ROUND_TRIP(protocol)));
    assert.ok(packages.has('mqtt') && packages.has('aedes'), 'the harness sees the packages');
    for (const p of TRANSPORT_PACKAGES) assert.ok(!packages.has(p), `${protocol}://: ${p} loaded`);
  }
});

test('a SOCKS proxy, TLS and WebSocket URLs get MQTT.js\'s own transports', () => {
  const build = (protocol: string) => `
const { connectMqtt } = await import(${dist('transport/mqtt-client.js')});
const client = connectMqtt({ protocol: '${protocol}', hostname: '127.0.0.1', host: '127.0.0.1', port: 9, path: '/mqtt', clientId: 'x', reconnectPeriod: 0, connectTimeout: 200 });
client.end(true);`;
  assert.ok(packagesOf(modulesLoadedBy(build('ws'))).has('ws'), 'ws:// loads ws');
  assert.ok(packagesOf(modulesLoadedBy(build('mqtts'))).has('socks'), 'mqtts:// loads MQTT.js\'s TLS transport (and with it its SOCKS support)');
  assert.ok(packagesOf(modulesLoadedBy(build('mqtt'), { MQTTJS_SOCKS_PROXY: 'socks5://127.0.0.1:9' })).has('socks'), 'a SOCKS proxy set for MQTT.js is still honoured');
  assert.ok(!packagesOf(modulesLoadedBy(build('mqtt'))).has('socks'));
});
