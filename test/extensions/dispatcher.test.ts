/**
 * A slow request must not hold up utterance acknowledgements. MQTT.js hands
 * inbound packets to the handler one at a time (and acknowledges on resolve), so
 * whatever a handler awaits stalls the connection. Through a real broker: a
 * request whose work is gated stays unfinished while twenty utterances behind it
 * are handled, when the request goes through a WorkQueue; the control case (a
 * handler that awaits the work itself) shows the stall the queue prevents.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedBroker } from '../../src/transport/embedded-broker.js';
import { MqttConnection } from '../../src/transport/mqtt-connection.js';
import { TopicDispatcher } from '../../src/extensions/dispatcher.js';
import { WorkQueue } from '../../src/extensions/work-queue.js';
import { createLogger } from '../../src/util/logger.js';
import { Recorder } from '../helpers/mqtt.js';
import { sleep, waitFor } from '../helpers/net.js';

const log = createLogger({ level: 'silent', sync: true });
let broker: EmbeddedBroker;
let url: string;

before(async () => {
  broker = new EmbeddedBroker('127.0.0.1', 0, log);
  url = await broker.start();
});
after(async () => {
  await broker.stop();
});

async function scene(clientId: string, slowHandler: (gate: Promise<void>, queue: WorkQueue) => () => Promise<void>) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const queue = new WorkQueue(log);
  const utterances: string[] = [];
  const dispatcher = new TopicDispatcher(log);
  dispatcher.addTarget({ name: 'bridge', filters: ['t/bridge/request/+'], handle: slowHandler(gate, queue) });
  dispatcher.addTarget({
    name: 'intake',
    filters: ['t/+/utterance'],
    handle: async (m) => {
      utterances.push(m.payload.toString());
    },
  });
  const connection = new MqttConnection(
    { url, clientId, protocolVersion: 4, sessionExpirySeconds: 60, keepaliveSeconds: 30, reconnectPeriodMs: 200, stateTopic: `t/${clientId}/state` },
    log,
  );
  await connection.start(dispatcher.subscriptions(), dispatcher.handle);
  const pub = await Recorder.connect(url, []);
  await pub.publish('t/bridge/request/reload_models', '{}');
  for (let i = 0; i < 20; i++) await pub.publish('t/kitchen/utterance', `u${i}`);
  return {
    utterances,
    open,
    queue,
    close: async () => {
      open();
      await queue.stop();
      await pub.close();
      await connection.stop();
    },
  };
}

test('a request queued off the packet path: utterances behind it are handled while it is still working', async () => {
  let finished = false;
  const s = await scene('disp-queued', (gate, queue) => async () => {
    queue.push(async () => {
      await gate;
      finished = true;
    });
  });
  try {
    assert.ok(await waitFor(() => s.utterances.length === 20, 5000), `only ${s.utterances.length} of 20 utterances handled`);
    assert.equal(finished, false, 'the request is still in progress');
    assert.equal(s.queue.depth, 1);
    s.open();
    assert.ok(await waitFor(() => finished, 2000));
  } finally {
    await s.close();
  }
});

test('control: a handler that awaits its slow work stalls every utterance behind it', async () => {
  const s = await scene('disp-blocking', (gate) => () => gate);
  try {
    await sleep(500);
    assert.equal(s.utterances.length, 0, 'MQTT.js handled a packet while the previous one was unacknowledged');
    s.open();
    assert.ok(await waitFor(() => s.utterances.length === 20, 5000));
  } finally {
    await s.close();
  }
});

test('routing: the first target whose filter matches wins; overlaps are reported; an unowned topic is acknowledged and dropped', async () => {
  const seen: string[] = [];
  const d = new TopicDispatcher(log);
  d.addTarget({ name: 'hermes', filters: ['hermes/nlu/query'], handle: async (m) => void seen.push(`hermes:${m.topic}`) });
  d.addTarget({ name: 'intake', filters: ['hubnlu/+/utterance', 'hermes/#'], handle: async (m) => void seen.push(`intake:${m.topic}`) });
  assert.deepEqual(d.subscriptions(), ['hermes/nlu/query', 'hubnlu/+/utterance', 'hermes/#']);
  const msg = (topic: string) => ({ topic, payload: Buffer.from('x'), qos: 1 as const, redelivered: false });
  await d.handle(msg('hermes/nlu/query'));
  await d.handle(msg('hermes/asr/textCaptured'));
  await d.handle(msg('hubnlu/den/utterance'));
  await d.handle(msg('other/topic'));
  assert.deepEqual(seen, ['hermes:hermes/nlu/query', 'intake:hermes/asr/textCaptured', 'intake:hubnlu/den/utterance']);
  assert.deepEqual(d.overlaps(), []);
  const e = new TopicDispatcher(log);
  e.addTarget({ name: 'hermes', filters: ['hermes/nlu/query'], handle: async () => undefined });
  e.addTarget({ name: 'intake', filters: ['hermes/nlu/query'], handle: async () => undefined });
  assert.deepEqual(e.overlaps(), [{ filter: 'hermes/nlu/query', owner: 'hermes', shadowed: 'intake' }]);
});
