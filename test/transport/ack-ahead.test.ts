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
import { ACK_HOLD_COUNT, MqttConnection } from '../../src/transport/mqtt-connection.js';
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

async function scene(clientId: string, ackAhead: number, ackHoldMs?: number) {
  const release = new Map<string, () => void>();
  const seen: string[] = [];
    const connection = new MqttConnection(
    { url, clientId, protocolVersion: 4, sessionExpirySeconds: 60, keepaliveSeconds: 30, reconnectPeriodMs: 200, stateTopic: `s/${clientId}/state`, ackAhead, ackHoldMs },
    log,
  );
  await connection.start([`t/${clientId}/+`], (m) => {
    const body = m.payload.toString();
    seen.push(body);
    return new Promise<void>((resolve) => release.set(body, resolve));
  });
  const pub = await Recorder.connect(url, []);
  for (let i = 0; i < 10; i++) await pub.publish(`t/${clientId}/in`, `${clientId}-${i}`);
  return { connection, pub, seen, release, close: async () => { release.forEach((r) => r()); await pub.close(); await connection.stop(); } };
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

test('ackHoldMs: a stored input\'s PUBACK waits for the next ones, never goes before its own resolve, and stop() sends what is held', async () => {
  const s = await scene('hold', 16, 600_000);
  const ackedHere = () => acked.filter((a) => a.startsWith('hold-'));
  try {
    assert.ok(await waitFor(() => s.seen.length === 10, 3000), `handler saw ${s.seen.length}`);
    assert.equal(ACK_HOLD_COUNT, 8);
    for (let i = 0; i < ACK_HOLD_COUNT - 1; i++) s.release.get(`hold-${i}`)!();
    await sleep(200);
    assert.deepEqual(ackedHere(), [], 'seven stored inputs: their PUBACKs are held (for up to ackHoldMs)');
    s.release.get(`hold-${ACK_HOLD_COUNT - 1}`)!();
    assert.ok(await waitFor(() => ackedHere().length === ACK_HOLD_COUNT, 3000), `acknowledged: ${ackedHere().join(', ')}`);
    assert.deepEqual(ackedHere().sort(), Array.from({ length: ACK_HOLD_COUNT }, (_, i) => `hold-${i}`), 'the eighth sends all eight, and only those');
    s.release.get('hold-8')!();
    await sleep(200);
    assert.equal(ackedHere().length, ACK_HOLD_COUNT, 'the next one is held again');
    await s.connection.stop();
    assert.ok(ackedHere().includes('hold-8'), 'stop() sends the held PUBACK before it disconnects');
    assert.ok(!ackedHere().includes('hold-9'), 'an input whose handler never resolved is not acknowledged');
  } finally {
    s.release.forEach((r) => r());
    await s.pub.close();
  }
});

test('ackHoldMs: a held PUBACK dies with its connection; the broker delivers the input again and it is acknowledged on the new one', async () => {
  const s = await scene('drop', 32, 600_000);
  const ackedHere = () => acked.filter((a) => a.startsWith('drop-'));
  try {
    assert.ok(await waitFor(() => s.seen.length === 10, 3000), `handler saw ${s.seen.length}`);
    s.release.get('drop-0')!();
    s.release.get('drop-1')!();
    await sleep(100);
    assert.deepEqual(ackedHere(), [], 'held');
    (s.connection as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    // aedes resends a persistent session's unacknowledged messages on reconnect (without the DUP flag).
    assert.ok(await waitFor(() => s.seen.length === 20, 5000), `delivered again after the reconnect: ${s.seen.slice(10).join(', ')}`);
    assert.ok(s.seen.slice(10).includes('drop-0') && s.seen.slice(10).includes('drop-1'), 'the two stored inputs whose PUBACKs were held come again');
    assert.deepEqual(ackedHere(), [], 'nothing held on the closed connection was sent on the new one');
    for (let i = 0; i < 10; i++) s.release.get(`drop-${i}`)!();
    assert.ok(await waitFor(() => ackedHere().length === 10, 3000), `acknowledged: ${ackedHere().join(', ')}`);
    assert.deepEqual(ackedHere().sort(), Array.from({ length: 10 }, (_, i) => `drop-${i}`).sort(), 'each input acknowledged once');
  } finally {
    await s.close();
  }
});
