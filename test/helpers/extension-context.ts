/**
 * ExtensionContext for extension tests: the shipped intent model's real labels,
 * a health snapshot the test controls, and `publish()` either recorded in memory
 * (unit tests) or sent through a real MQTT client (broker tests, with the
 * extension's topics routed to its `handle()`).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { loadManifest, defaultModelDir } from '../../src/model/manifest.js';
import type { ModelRef, TaskName } from '../../src/model/types.js';
import type { Extension, ExtensionContext, HealthSnapshot, OutboundMessage } from '../../src/extensions/extension.js';
import { createLogger } from '../../src/util/logger.js';
import { responseTopicProblem } from '../../src/agent/response.js';

export function shippedModels(): { refs: ModelRef[]; labels: Record<TaskName, string[]> } {
  const intent = loadManifest(defaultModelDir('intent'));
  const sentiment = loadManifest(defaultModelDir('sentiment'));
  return {
    refs: [
      { task: 'intent', name: intent.name, version: intent.version },
      { task: 'sentiment', name: sentiment.name, version: sentiment.version },
    ],
    labels: { intent: [...intent.labels], sentiment: [...sentiment.labels] },
  };
}

export function health(overrides: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    uptimeSeconds: 12,
    memory: { rssBytes: 1, heapUsedBytes: 1 },
    queues: { inFlight: 0, outboxUnpublished: 0, outboxRefused: 0 },
    counts: { received: 10, accepted: 9, rejected: 1, duplicates: 0, processed: 8, failed: 1, published: 8 },
    inputsPerMinute: 9,
    latencyMs: { p50: 1.5, p90: 2.5, p99: 4.25 },
    databaseBytes: 4096,
    connected: true,
    ...overrides,
  };
}

export interface TestContext {
  readonly ctx: ExtensionContext;
  readonly published: OutboundMessage[];
  /** Replace what `ctx.models` reports (a model swap). */
  setModels(refs: ModelRef[], labels: Record<TaskName, string[]>): void;
  setHealth(h: HealthSnapshot): void;
}

export function memoryContext(
  opts: { baseTopic?: string; version?: string; clientId?: string; publish?: (m: OutboundMessage) => Promise<void> } = {},
): TestContext {
  let { refs, labels } = shippedModels();
  let snapshot = health();
  const published: OutboundMessage[] = [];
  const ctx: ExtensionContext = {
    log: createLogger({ level: 'silent', sync: true }),
    baseTopic: opts.baseTopic ?? 'hubnlu',
    version: opts.version ?? '0.1.0',
    models: { loadedModels: () => refs, labels: (task) => labels[task] ?? [] },
    publish: async (m) => {
      published.push(m);
      await opts.publish?.(m);
    },
    health: () => snapshot,
    submit: async () => {
      throw new Error('submit() is not part of this test');
    },
    control: new Proxy({} as ExtensionContext['control'], {
      get: () => {
        throw new Error('control is not part of this test');
      },
    }),
    responseTopicProblem: (topic) => responseTopicProblem(topic, [`${opts.baseTopic ?? 'hubnlu'}/#`]),
    mqtt5: false,
    clientId: opts.clientId ?? 'hubnlu',
  };
  return {
    ctx,
    published,
    setModels: (r, l) => {
      refs = r;
      labels = l;
    },
    setHealth: (h) => {
      snapshot = h;
    },
  };
}

/** A context whose `publish()` goes through a real broker, and which routes the extension's topics to `handle()`. */
export class BrokerHarness {
  private constructor(
    readonly client: MqttClient,
    readonly test: TestContext,
  ) {}

  static async connect(url: string, opts: { baseTopic?: string; clientId?: string } = {}): Promise<BrokerHarness> {
    const client = mqtt.connect(url, { clientId: `ext-${Math.random().toString(16).slice(2)}`, protocolVersion: 4, reconnectPeriod: 200 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const test = memoryContext({
      baseTopic: opts.baseTopic,
      clientId: opts.clientId,
      publish: async (m) => {
        await client.publishAsync(m.topic, m.payload, { qos: m.qos ?? 1, retain: m.retain ?? false });
      },
    });
    return new BrokerHarness(client, test);
  }

  /** Subscribes to the extension's topics and starts it, like the agent's dispatcher. */
  async run(ext: Extension): Promise<void> {
    this.client.on('message', (topic, payload, packet) => {
      void ext.handle?.({ topic, payload, qos: packet.qos, redelivered: packet.dup, messageId: packet.messageId });
    });
    const topics = ext.topics();
    if (topics.length > 0) await this.client.subscribeAsync([...topics], { qos: 1 });
    await ext.start();
  }

  async publish(m: OutboundMessage): Promise<void> {
    await this.client.publishAsync(m.topic, m.payload, { qos: m.qos ?? 1, retain: m.retain ?? false });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
