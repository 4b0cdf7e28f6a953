/**
 * The broker-limit reference for bench/e2e.ts, in its own process like
 * `hubnlu run`: subscribes to `<prefix>/+/in` at QoS 1 and republishes each
 * message at QoS 1 to `<prefix>/<site>/out`. It does no work, so publisher →
 * broker → echo → broker → counter is the most the broker and MQTT.js carry
 * on this machine with the same message count and window.
 *
 *   node dist/bench/echo-client.js <url> <prefix>
 *
 * Prints "ready" once subscribed.
 */
import mqtt from 'mqtt';

const [url, prefix] = process.argv.slice(2);
const client = mqtt.connect(url, { clientId: `bench-echo-${process.pid}`, protocolVersion: 5, clean: true });
client.on('message', (topic, payload) => {
  const site = topic.slice(prefix.length + 1, topic.lastIndexOf('/'));
  client.publish(`${prefix}/${site}/out`, payload, { qos: 1 });
});
client.once('connect', () => {
  (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  client.subscribe(`${prefix}/+/in`, { qos: 1 }, () => process.stdout.write('ready\n'));
});
process.once('SIGTERM', () => client.end(false, {}, () => process.exit(0)));
