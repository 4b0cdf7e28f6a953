/**
 * The composition root. Reading `start()` tells how hubnlu fits together:
 * database → models → (embedded broker) → worker + outbox → resume what a
 * previous run left → connect and subscribe. `stop()` undoes it in reverse.
 *
 * Components receive what they need here; none reaches for globals.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import type { Analyzer, ModelRef } from '../model/types.js';
import { openDatabase, type Db } from '../store/database.js';
import { LogStore } from '../store/log-store.js';
import { EmbeddedBroker } from '../transport/embedded-broker.js';
import { MqttConnection } from '../transport/mqtt-connection.js';
import { escapeSegment } from '../transport/topics.js';
import { resolveFromPackage } from '../util/paths.js';
import { redactUrl } from '../util/redact.js';
import { InferenceWorker } from './inference-worker.js';
import { Intake, type Route } from './intake.js';
import { OutboxPublisher } from './outbox-publisher.js';
import { MaintenanceSchedule } from './maintenance.js';

export interface LoadedModels extends Analyzer {
  /** The threshold in force (the configured one, else the model's own). */
  readonly unknownThreshold?: number;
  close(): Promise<void>;
}

export type ModelLoader = (config: Config) => Promise<LoadedModels>;

export interface AgentInfo {
  readonly brokerUrl: string;
  readonly embeddedBroker: boolean;
  readonly models: readonly ModelRef[];
  readonly databasePath: string;
  readonly subscriptions: readonly string[];
}

export interface AgentStats {
  readonly received: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly processed: number;
  readonly failed: number;
  readonly published: number;
  readonly inFlight: number;
}

export class Agent {
  private db?: Db;
  private models?: LoadedModels;
  private broker?: EmbeddedBroker;
  private connection?: MqttConnection;
  private worker?: InferenceWorker;
  private publisher?: OutboxPublisher;
  private intake?: Intake;
  private maintenance?: MaintenanceSchedule;
  private info?: AgentInfo;

  /** Does nothing: `start()` does the work (STYLE: constructors do nothing). */
  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly loadModels: ModelLoader,
  ) {}

  async start(): Promise<AgentInfo> {
    const { config, log } = this;
    const dbPath = resolveFromCwd(config.storage.path);
    this.db = openDatabase(dbPath, { synchronous: config.storage.synchronous, busyTimeoutMs: config.storage.busyTimeoutMs });
    const store = new LogStore(this.db);

    this.models = await this.loadModels(config);
    const models = this.models.loadedModels();

    let brokerUrl = config.mqtt.url;
    if (!brokerUrl) {
      this.broker = new EmbeddedBroker(config.mqtt.embedded.host, config.mqtt.embedded.port, log.child({ module: 'broker' }));
      brokerUrl = await this.broker.start();
    }

    const base = config.mqtt.baseTopic;
    const connection = new MqttConnection(
      {
        url: brokerUrl,
        clientId: config.mqtt.clientId,
        protocolVersion: config.mqtt.url ? config.mqtt.protocolVersion : 4, // aedes speaks MQTT 3.1.1
        username: config.mqtt.username,
        password: config.mqtt.password,
        sessionExpirySeconds: config.mqtt.sessionExpirySeconds,
        keepaliveSeconds: config.mqtt.keepaliveSeconds,
        reconnectPeriodMs: config.mqtt.reconnectPeriodMs,
        reconnectMaxMs: config.mqtt.reconnectMaxMs,
        tls: config.mqtt.tls.ca || config.mqtt.tls.cert ? { ...config.mqtt.tls } : undefined,
        stateTopic: `${base}/bridge/state`,
        separatePublisher: config.mqtt.separatePublishConnection,
      },
      log.child({ module: 'mqtt' }),
    );
    this.connection = connection;
    const publisher = new OutboxPublisher(store, connection, log.child({ module: 'outbox' }));
    this.publisher = publisher;
    const routes: Route[] = config.input.topics.map((t) => ({ topic: t.topic, format: t.format, tasks: t.tasks, resultTopic: t.resultTopic }));
    const errorTopicFor = (siteId: string): string => `${base}/${escapeSegment(siteId)}/error`;
    const worker = new InferenceWorker(store, this.models, () => publisher.kick(), log.child({ module: 'worker' }), {
      capacity: config.input.maxInFlight,
      errorTopicFor,
      unknownThreshold: this.models.unknownThreshold ?? config.models.unknownThreshold,
    });
    this.worker = worker;
    const intake = new Intake(store, worker, () => publisher.kick(), log.child({ module: 'intake' }), {
      routes,
      baseTopic: base,
      limits: { maxPayloadBytes: config.input.maxPayloadBytes, maxTextChars: config.input.maxTextChars },
      errorTopicFor,
    });
    this.intake = intake;

    // Resume: inputs a previous run stored but never answered.
    let resumed = 0;
    for (let after = 0; ; ) {
      const batch = store.pending(after, 1000);
      if (batch.length === 0) break;
      for (const item of batch) worker.push(item);
      resumed += batch.length;
      after = batch[batch.length - 1].seq;
    }
    if (resumed > 0) log.info({ resumed }, 'resuming inputs stored by a previous run');

    publisher.start();
    this.maintenance = new MaintenanceSchedule(this.db, config.storage.maintenanceCron, config.storage.retentionDays, log.child({ module: 'maintenance' }));
    this.maintenance.start();
    const subscriptions = routes.map((r) => r.topic);
    await connection.start(subscriptions, intake.handle);
    this.info = { brokerUrl: redactUrl(brokerUrl), embeddedBroker: !config.mqtt.url, models, databasePath: dbPath, subscriptions };
    return this.info;
  }

  stats(): AgentStats {
    const i = this.intake?.stats;
    const w = this.worker?.stats;
    return {
      received: i?.received ?? 0,
      accepted: i?.accepted ?? 0,
      rejected: i?.rejected ?? 0,
      duplicates: i?.duplicates ?? 0,
      processed: w?.processed ?? 0,
      failed: w?.failed ?? 0,
      published: this.publisher?.published ?? 0,
      inFlight: this.worker?.inFlight ?? 0,
    };
  }

  /**
   * Ordered stop: stop maintenance, stop accepting (unacknowledged messages stay with the broker's
   * session), finish and store in-flight inferences, flush the outbox, end MQTT,
   * close SQLite and the models, stop the embedded broker.
   */
  async stop(): Promise<void> {
    await this.maintenance?.stop();
    this.intake?.close();
    await this.worker?.stop();
    if (this.publisher) {
      const flushed = await this.publisher.drain(1500);
      if (!flushed) this.log.warn('some results were not acknowledged before stopping; they are republished on the next start');
      this.publisher.stop();
    }
    await this.connection?.stop();
    this.db?.close();
    await this.models?.close();
    await this.broker?.stop();
    this.log.info(this.stats(), 'stopped');
  }
}

function resolveFromCwd(path: string): string {
  return path === ':memory:' ? path : resolveFromPackage(path, { preferCwd: true });
}
