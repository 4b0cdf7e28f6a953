/**
 * src/transport/mqtt-timers.ts gives MQTT.js Node's own timers in place of the browser library `worker-timers`
 * (issue 10, idle RSS). In a child process that loads the agent's MQTT client: the library and its dependencies are
 * not loaded, the require cache holds Node's timers under worker-timers' path, and MQTT.js's keep-alive still works
 * both ways: it sends PINGREQs to a real broker (aedes) that keep the connection up, and it gives up on a broker
 * that answers the CONNECT but no PINGREQ ("Keepalive timeout").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { fileUrl, modulesLoadedBy, packagesOf } from '../helpers/loaded-modules.js';

const dist = (p: string) => JSON.stringify(fileUrl(join(REPO_ROOT, 'dist', 'src', p)));

/** What `worker-timers` brings in when it is really loaded. */
const WORKER_TIMERS_DEPENDENCIES = ['worker-timers-broker', 'worker-timers-worker', 'broker-factory', 'fast-unique-numbers', '@babel/runtime'];

const KEEPALIVE = `
const { Aedes } = await import('aedes');
const { createServer } = await import('node:net');
const { createRequire: requireFrom } = await import('node:module');
const { once } = await import('node:events');
const { connectMqtt } = await import(${dist('transport/mqtt-client.js')});
const { WORKER_TIMERS_PATH, NATIVE_TIMERS } = await import(${dist('transport/mqtt-timers.js')});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const listen = async (server) => { await new Promise((r) => server.listen(0, '127.0.0.1', r)); return server.address().port; };
const options = (port, clientId) => ({ protocol: 'mqtt', hostname: '127.0.0.1', host: '127.0.0.1', port, clientId, keepalive: 1, reconnectPeriod: 0, connectTimeout: 5000 });

// MQTT.js's require('worker-timers') got Node's timers.
const cached = requireFrom(import.meta.url).cache[WORKER_TIMERS_PATH];
if (!cached || cached.exports !== NATIVE_TIMERS || cached.exports.setInterval !== globalThis.setInterval || cached.exports.clearInterval !== globalThis.clearInterval) throw new Error('worker-timers is not Node timers in the require cache');

// 1. A real broker: with a 1 s keep-alive the client pings (about once a second) and stays connected.
const broker = await Aedes.createBroker();
let pings = 0;
broker.on('ping', (_packet, client) => { if (client.id === 'ka') pings++; });
const server = createServer((s) => broker.handle(s));
const client = connectMqtt(options(await listen(server), 'ka'));
await once(client, 'connect');
for (let i = 0; i < 1000 && pings < 3; i++) await sleep(10);
if (pings < 3) throw new Error('keep-alive: ' + pings + ' PINGREQs in 10 s');
if (!client.connected) throw new Error('keep-alive: disconnected although it pinged');
client.end(true);
await new Promise((r) => broker.close(r));
server.close();

// 2. A broker that accepts the connection (CONNACK) and then answers nothing: the keep-alive timer gives up.
const silent = createServer((s) => { let first = true; s.on('data', () => { if (first) { first = false; s.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); } }); s.on('error', () => undefined); });
const mute = connectMqtt(options(await listen(silent), 'mute'));
const errors = [];
mute.on('error', (e) => errors.push(e.message));
await once(mute, 'connect');
for (let i = 0; i < 1000 && !errors.includes('Keepalive timeout'); i++) await sleep(10);
if (!errors.includes('Keepalive timeout')) throw new Error('no keep-alive timeout from a mute broker: ' + errors.join());
mute.end(true);
silent.close();`;

test("MQTT.js keeps alive with Node's timers and without loading worker-timers", () => {
  // modulesLoadedBy throws if the child fails (its checks above).
  const packages = packagesOf(modulesLoadedBy(KEEPALIVE));
  assert.ok(packages.has('mqtt') && packages.has('aedes'), 'the harness sees the packages');
  for (const p of WORKER_TIMERS_DEPENDENCIES) assert.ok(!packages.has(p), `${p} loaded`);
});
