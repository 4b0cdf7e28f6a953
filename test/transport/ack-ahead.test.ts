/**
 * `ackAhead` (issue 10): the connection hands messages to the handler while
 * earlier ones are still being stored, and the PUBACK of each goes out only
 * when its handler resolves: never before. Observed at a real broker (aedes
 * reports each PUBACK it receives), not inside MQTT.js.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { MqttConnection } from '../../src/transport/mqtt-connection.js';
import { createLogger } from '../../src/util/logger.js';
import { Recorder } from '../helpers/mqtt.js';
import { sleep, waitFor } from '../helpers/net.js';

const log = createLogger({ level: 'silent', sync: true });
let broker: Aedes;
let server: Server;
let url: string;
const acked: string[] = [];

before(async () => {
  broker = await Aedes.createBroker();
  broker.on('ack', (packet) => {
    if (packet && 'payload' in packet && packet.topic?.startsWith('t/')) acked.push(String(packet.payload));
  });
  server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function scene(clientId: string, ackAhead: number) {
  const release = new Map<string, () => void>();
  const seen: string[] = [];
  const connection = new MqttConnection(
    { url, clientId, protocolVersion: 4, sessionExpirySeconds: 60, keepaliveSeconds: 30, reconnectPeriodMs: 200, stateTopic: `s/${clientId}/state`, ackAhead },
    log,
  );
  await connection.start([`t/${clientId}/+`], (m) => {
    const body = m.payload.toString();
    seen.push(body);
    return new Promise<void>((resolve) => release.set(body, resolve));
  });
  const pub = await Recorder.connect(url, []);
  for (let i = 0; i < 10; i++) await pub.publish(`t/${clientId}/in`, `${clientId}-${i}`);
  return { seen, release, close: async () => { release.forEach((r) => r()); await pub.close(); await connection.stop(); } };
}

test('ackAhead 4: four messages reach the handler before any is stored; each PUBACK follows its own resolve', async () => {
  const s = await scene('ahead', 4);
  try {
    assert.ok(await waitFor(() => s.seen.length === 4, 3000), `handler saw ${s.seen.length}`);
    await sleep(200);
    assert.equal(s.seen.length, 4, 'at the limit the packet loop waits');
    assert.deepEqual(acked.filter((a) => a.startsWith('ahead-')), [], 'no PUBACK before a handler resolved');
    s.release.get('ahead-2')!();
    assert.ok(await waitFor(() => acked.includes('ahead-2'), 3000), 'the resolved message is acknowledged');
    assert.deepEqual(acked.filter((a) => a.startsWith('ahead-')), ['ahead-2'], 'only that one');
    assert.ok(await waitFor(() => s.seen.length === 5, 3000), 'room for one more');
    for (const id of ['ahead-0', 'ahead-1', 'ahead-3', 'ahead-4']) s.release.get(id)!();
    assert.ok(await waitFor(() => s.seen.length === 9, 3000));
    for (let i = 5; i < 10; i++) await waitFor(() => s.release.has(`ahead-${i}`), 3000).then(() => s.release.get(`ahead-${i}`)!());
    assert.ok(await waitFor(() => acked.filter((a) => a.startsWith('ahead-')).length === 10, 3000));
  } finally {
    await s.close();
  }
});

test('ackAhead 1 (the default): one message at a time, acknowledged on resolve', async () => {
  const s = await scene('serial', 1);
  try {
    assert.ok(await waitFor(() => s.seen.length === 1, 3000));
    await sleep(200);
    assert.equal(s.seen.length, 1);
    assert.deepEqual(acked.filter((a) => a.startsWith('serial-')), []);
    s.release.get('serial-0')!();
    assert.ok(await waitFor(() => acked.includes('serial-0') && s.seen.length === 2, 3000));
  } finally {
    await s.close();
  }
});
