/**
 * MQTT.js without `worker-timers` (issue 10, idle RSS).
 *
 * MQTT.js's keep-alive (build/lib/get-timer.js) requires `worker-timers` at load whatever the platform: a browser
 * library that runs timers in a Web Worker, with `worker-timers-broker`, `broker-factory`, `fast-unique-numbers` and
 * 21 modules of `@babel/runtime` (1.1–1.4 MB of RSS an agent holds for nothing). In Node MQTT.js never calls it:
 * with its default `timerVariant: 'auto'`, get-timer picks the worker timers only in a browser that is not a Web
 * Worker or React Native, and otherwise Node's own `setInterval` / `clearInterval` (its `nativeTimer`); hubnlu never
 * sets `timerVariant`. (Called in Node, worker-timers would fail: it starts a `Worker` from a Blob URL.)
 *
 * So before MQTT.js loads, this module puts into the CommonJS require cache, under the path MQTT.js's own `require`
 * resolves `worker-timers` to, a module whose exports are Node's own timers (`node:timers`, the same functions as
 * the globals). MQTT.js's behaviour in Node is unchanged; what changes is that the browser library is not loaded.
 * Every module of hubnlu that imports a value from `mqtt` imports this one first (test/transport/mqtt-timers.test.ts
 * checks that the agent still sends its keep-alive pings, test/cli/run-modules.test.ts that the library is not loaded).
 * If MQTT.js was already loaded (by something else in the process) the cache is left as it is.
 */
import { createRequire, Module } from 'node:module';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';

const require = createRequire(import.meta.url);

/** Where MQTT.js's `require('worker-timers')` resolves to (from MQTT.js's own location, as it would). */
export const WORKER_TIMERS_PATH = createRequire(require.resolve('mqtt')).resolve('worker-timers');

/** What MQTT.js gets for `worker-timers`: Node's own timers. */
export const NATIVE_TIMERS = { setTimeout, clearTimeout, setInterval, clearInterval } as const;

if (require.cache[WORKER_TIMERS_PATH] === undefined) {
  const stub = new Module(WORKER_TIMERS_PATH);
  stub.filename = WORKER_TIMERS_PATH;
  stub.exports = NATIVE_TIMERS;
  stub.loaded = true;
  require.cache[WORKER_TIMERS_PATH] = stub;
}
