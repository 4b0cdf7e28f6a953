/** A test-side MQTT client that records everything it receives. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

export class Recorder {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload, retain: packet.retain }));
  }

  /** MQTT 3.1.1 by default: the embedded aedes broker speaks nothing newer. */
  static async connect(url: string, topics: string[], opts: { clientId?: string; clean?: boolean; protocolVersion?: 4 | 5 } = {}): Promise<Recorder> {
    const protocolVersion = opts.protocolVersion ?? 4;
    const client = mqtt.connect(url, {
      clientId: opts.clientId ?? `test-${Math.random().toString(16).slice(2)}`,
      clean: opts.clean ?? true,
      protocolVersion,
      properties: opts.clean === false && protocolVersion === 5 ? { sessionExpiryInterval: 3600 } : undefined,
      reconnectPeriod: 200,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const recorder = new Recorder(client);
    if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
    return recorder;
  }

  json(topicFilter: (topic: string) => boolean = () => true): Array<Record<string, unknown>> {
    return this.messages.filter((m) => topicFilter(m.topic)).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  }

  async publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Connects a test client with any MQTT.js options; resolves on CONNACK, rejects on the first error (a refused login). */
export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, options);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}

/**
 * Publishes one input on `topic` through a connected client and collects the
 * results (`hubnlu/+/result`, parsed) until one satisfies `done` or the time
 * runs out. Returns every result seen; the caller asserts on them.
 */
export async function askAndCollect(
  client: MqttClient,
  topic: string,
  payload: string,
  done: (result: Record<string, unknown>) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Array<Record<string, unknown>>> {
  const got: Array<Record<string, unknown>> = [];
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  client.on('message', (_t, p) => {
    const result = JSON.parse(p.toString()) as Record<string, unknown>;
    got.push(result);
    if (done(result)) finish();
  });
  await client.subscribeAsync('hubnlu/+/result', { qos: 1 });
  await client.publishAsync(topic, payload, { qos: 1 });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  return got;
}
