/**
 * Nagle's algorithm is off on every socket the agent opens to the broker, and again after a reconnect (each
 * reconnection is a new socket). With Nagle on, a small result written while an earlier segment awaits its ACK
 * waits for the peer's delayed ACK: milliseconds on every answer of a steady stream (bench/e2e measures it).
 * Observed on the real sockets to a real broker (aedes), by recording Socket#setNoDelay calls.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { MqttConnection } from '../../src/transport/mqtt-connection.js';
import { createLogger } from '../../src/util/logger.js';
import { waitFor } from '../helpers/net.js';

const log = createLogger({ level: 'silent', sync: true });
let broker: Aedes;
let server: Server;
let port: number;
const serverSockets = new Set<Socket>();
/** Local ports of client sockets to the broker that had Nagle turned off. */
const noDelayPorts: number[] = [];
const originalSetNoDelay = Socket.prototype.setNoDelay;

before(async () => {
  Socket.prototype.setNoDelay = function (this: Socket, noDelay?: boolean) {
    if (noDelay !== false && this.remotePort === port && this.localPort !== undefined) noDelayPorts.push(this.localPort);
    return originalSetNoDelay.call(this, noDelay);
  };
  broker = await Aedes.createBroker();
  server = createServer((socket) => {
    serverSockets.add(socket);
    socket.once('close', () => serverSockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  Socket.prototype.setNoDelay = originalSetNoDelay;
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the inbound and outbound connections run with TCP_NODELAY, and so do their reconnections', async () => {
  const connection = new MqttConnection(
    { url: `mqtt://127.0.0.1:${port}`, clientId: 'nodelay', protocolVersion: 4, sessionExpirySeconds: 60, keepaliveSeconds: 30, reconnectPeriodMs: 100, stateTopic: 's/nodelay/state', separatePublisher: true },
    log,
  );
  await connection.start(['t/nodelay/+'], () => Promise.resolve());
  try {
    assert.ok(await waitFor(() => new Set(noDelayPorts).size >= 2, 3000), `sockets with Nagle off: ${noDelayPorts.length}`);
    const first = new Set(noDelayPorts);
    // Drop every connection at the broker: both clients reconnect on new sockets.
    for (const socket of serverSockets) socket.destroy();
    assert.ok(await waitFor(() => noDelayPorts.filter((p) => !first.has(p)).length >= 2, 10_000), `after reconnecting: ${noDelayPorts.join(', ')}`);
  } finally {
    await connection.stop();
  }
});
