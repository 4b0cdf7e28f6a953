/** A test-side MQTT client that records everything it receives. */
import mqtt, { type MqttClient } from 'mqtt';

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
