/** A bridge caller: requests with or without a transaction, MQTT 5 response topics, and what came back. */
import mqtt, { type MqttClient } from 'mqtt';

export interface Got {
  readonly topic: string;
  readonly body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly retain: boolean;
  readonly correlationData?: Buffer;
}

export class BridgeCaller {
  readonly got: Got[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let body: Got['body'];
      try {
        body = JSON.parse(payload.toString()) as Got['body'];
      } catch {
        body = { unparsable: payload.toString() };
      }
      const cd = packet.properties?.correlationData;
      this.got.push({ topic, body, retain: packet.retain, correlationData: cd ? Buffer.from(cd) : undefined });
    });
  }

  static async connect(url: string, topics: string[], protocolVersion: 4 | 5 = 4): Promise<BridgeCaller> {
    const client = mqtt.connect(url, { clientId: `caller-${Math.random().toString(16).slice(2)}`, protocolVersion, clean: true, reconnectPeriod: 200 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const caller = new BridgeCaller(client);
    if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
    return caller;
  }

  async send(topic: string, payload: unknown, mqtt5?: { responseTopic: string; correlationData?: Buffer }): Promise<void> {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    await this.client.publishAsync(topic, body, { qos: 1, ...(mqtt5 ? { properties: mqtt5 } : {}) });
  }

  on(topic: string): Got[] {
    return this.got.filter((g) => g.topic === topic);
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}
