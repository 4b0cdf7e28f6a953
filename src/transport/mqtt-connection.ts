/**
 * The one owner of the MQTT client. It holds the session settings that make
 * delivery lossless, the Last Will, the online/offline state and the rule that
 * nothing is published to a wildcard topic.
 *
 * Acknowledgement (REFERENCE.md, MQTT.js semantics): for QoS 1 the PUBACK is sent
 * only when `handleMessage(packet, callback)` calls back, and inbound packets are
 * handled one at a time. The handler given to `start()` therefore resolves only
 * once the input is committed to SQLite; inference happens later, off this path.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../util/logger.js';
import { redactUrl } from '../util/redact.js';
import { assertPublishTopic } from './topics.js';

export interface ConnectionSettings {
  readonly url: string;
  readonly clientId: string;
  /** 5, or 4 (MQTT 3.1.1) for brokers without MQTT 5 such as aedes. */
  readonly protocolVersion: 4 | 5;
  readonly username?: string;
  readonly password?: string;
  readonly sessionExpirySeconds: number;
  readonly keepaliveSeconds: number;
  readonly reconnectPeriodMs: number;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized: boolean };
  /** Retained availability topic: `{"state":"online"}` on connect, `offline` as the Last Will and on stop. */
  readonly stateTopic: string;
  /**
   * Publish results on a second, publish-only connection (client id `<clientId>-out`). MQTT.js handles a
   * connection's incoming packets in order, so on a shared connection the broker's PUBACKs for our results
   * queue behind a backlog of inputs and results stall until it is stored.
   */
  readonly separatePublisher?: boolean;
}

export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly messageId?: number;
  readonly qos: 0 | 1 | 2;
  /** The broker's DUP flag: this is a redelivery of a message it sent before [MQTT-3.3.1-1]. */
  readonly redelivered: boolean;
  /** MQTT 5 request/response properties of the PUBLISH [MQTT-4.10]; absent on 3.1.1. */
  readonly properties?: {
    readonly responseTopic?: string;
    readonly correlationData?: Buffer;
    readonly userProperties?: Readonly<Record<string, string | string[]>>;
  };
}

/** MQTT 5 properties a publish may carry; dropped on an MQTT 3.1.1 connection. */
export interface PublishProperties {
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
  readonly contentType?: string;
  readonly userProperties?: Readonly<Record<string, string>>;
}

/** Resolves when the message may be acknowledged. Must not reject: hold it instead. */
export type InboundHandler = (message: InboundMessage) => Promise<void>;

export interface ConnectionEvents {
  online: [];
  offline: [];
}

export class MqttConnection extends EventEmitter<ConnectionEvents> {
  private client?: MqttClient;
  /** The publish-only connection, when `separatePublisher` is set. */
  private out?: MqttClient;
  private outConnected = false;
  private subscriptions: readonly string[] = [];
  private connected = false;
  /** Bumped when a connection closes; a handler that outlives its connection must not ack on the next one (its packet id means another message there). */
  private generation = 0;
  private stopping = false;

  constructor(private readonly settings: ConnectionSettings, private readonly log: Logger) {
    super();
  }

  /** Whether results can be published now. */
  get isOnline(): boolean {
    return this.out ? this.outConnected : this.connected;
  }

  private baseOptions(): IClientOptions {
    const s = this.settings;
    const options: IClientOptions = {
      protocolVersion: s.protocolVersion,
      keepalive: s.keepaliveSeconds,
      reconnectPeriod: s.reconnectPeriodMs,
      connectTimeout: 10_000,
      username: s.username,
      password: s.password,
    };
    if (s.tls) {
      if (s.tls.ca) options.ca = readFileSync(s.tls.ca);
      if (s.tls.cert) options.cert = readFileSync(s.tls.cert);
      if (s.tls.key) options.key = readFileSync(s.tls.key);
      options.rejectUnauthorized = s.tls.rejectUnauthorized;
    }
    return options;
  }

  start(subscriptions: readonly string[], handler: InboundHandler): Promise<void> {
    this.subscriptions = subscriptions;
    const s = this.settings;
    const client = mqtt.connect(s.url, {
      ...this.baseOptions(),
      clientId: s.clientId,
      clean: false, // persistent session: the broker queues QoS 1 inputs while we are away
      // MQTT 5: an absent expiry means 0, the session dies with the connection [MQTT-3.1.2-23]. 3.1.1 sessions never expire.
      properties: s.protocolVersion === 5 ? { sessionExpiryInterval: s.sessionExpirySeconds } : undefined,
      resubscribe: false, // we subscribe ourselves whenever the broker has no session for us
      will: { topic: s.stateTopic, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true },
    });
    this.client = client;

    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      const generation = this.generation;
      const props = packet.properties;
      const message: InboundMessage = {
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        messageId: packet.messageId,
        qos: packet.qos,
        redelivered: packet.dup === true,
        properties:
          props && (props.responseTopic || props.correlationData || props.userProperties)
            ? {
                responseTopic: props.responseTopic,
                correlationData: props.correlationData ? Buffer.from(props.correlationData) : undefined,
                userProperties: props.userProperties as Record<string, string | string[]> | undefined,
              }
            : undefined,
      };
      handler(message).then(
        () => {
          if (generation !== this.generation) {
            // The connection this message came on is gone; the broker will redeliver it and the log dedupes it.
            callback(new Error('connection replaced before the message was stored'));
            return;
          }
          callback();
        },
        (err: Error) => {
          this.log.error({ err, topic: packet.topic }, 'input handler failed; message not acknowledged');
          callback(err);
        },
      );
    };

    const inboundReady = new Promise<void>((resolve, reject) => {
      let first = true;
      client.on('connect', (connack) => {
        this.connected = true;
        this.log.info({ url: redactUrl(s.url), clientId: s.clientId, sessionPresent: connack.sessionPresent }, 'connected to broker');
        this.publishState('online');
        // At start, subscribe even to a resumed session: the configuration may name topics the stored session
        // lacks (an extension switched on), and extensions read retained messages that are only sent on SUBSCRIBE.
        // Re-subscribing replaces a subscription without interrupting its queued messages [MQTT-3.8.4-3].
        const ready = connack.sessionPresent && !first ? Promise.resolve() : this.subscribeAll();
        ready.then(
          () => {
            if (!this.out) this.emit('online');
            if (first) {
              first = false;
              resolve();
            }
          },
          (err: Error) => {
            this.log.error({ err }, 'subscribe failed');
            if (first) reject(err);
          },
        );
      });
      client.on('close', () => {
        // Counted on close, not connect: on a resumed session MQTT.js may hand us inbound packets before it
        // emits 'connect', and those must still be acknowledged on the connection they came on.
        this.generation++;
        if (this.connected) {
          this.connected = false;
          if (!this.stopping) this.log.warn('disconnected from broker; reconnecting');
          if (!this.out) this.emit('offline');
        }
      });
      this.onConnectError(client, () => first, (err) => {
        first = false;
        reject(err);
      });
    });
    if (!s.separatePublisher) return inboundReady;

    const out = mqtt.connect(s.url, { ...this.baseOptions(), clientId: `${s.clientId}-out`, clean: true });
    this.out = out;
    const outboundReady = new Promise<void>((resolve, reject) => {
      let first = true;
      out.on('connect', () => {
        this.outConnected = true;
        this.emit('online');
        if (first) {
          first = false;
          resolve();
        }
      });
      out.on('close', () => {
        if (!this.outConnected) return;
        this.outConnected = false;
        this.emit('offline');
      });
      this.onConnectError(out, () => first, (err) => {
        first = false;
        reject(err);
      });
    });
    return Promise.all([inboundReady, outboundReady]).then(() => undefined);
  }

  /** Logs errors; a CONNACK refusal (bad credentials, not authorised) at start is final, not worth retrying. */
  private onConnectError(client: MqttClient, starting: () => boolean, refuse: (err: Error) => void): void {
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      this.log.error({ err: { message: err.message, code } }, 'mqtt error');
      if (starting() && typeof code === 'number') refuse(err);
    });
  }

  private subscribeAll(): Promise<void> {
    const client = this.client!;
    return new Promise((resolve, reject) => {
      client.subscribe(
        this.subscriptions.map((topic) => topic),
        { qos: 1 },
        (err, granted) => {
          if (err) return reject(err);
          const refused = (granted ?? []).filter((g) => g.qos === 128 || (g as { reasonCode?: number }).reasonCode === 128);
          if (refused.length > 0) return reject(new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`));
          this.log.info({ topics: this.subscriptions }, 'subscribed');
          resolve();
        },
      );
    });
  }

  /** Whether this connection speaks MQTT 5 (publish properties are sent only then). */
  get mqtt5(): boolean {
    return this.settings.protocolVersion === 5;
  }

  /** Publishes and resolves on PUBACK (QoS 1). Refuses wildcard topics. MQTT 5 properties are dropped on 3.1.1. */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1 | 2; retain?: boolean; properties?: PublishProperties } = {}): Promise<void> {
    assertPublishTopic(topic);
    const client = this.out ?? this.client;
    if (!client) return Promise.reject(new Error('not started'));
    const p = opts.properties;
    const properties =
      p && this.mqtt5
        ? {
            ...(p.responseTopic ? { responseTopic: p.responseTopic } : {}),
            ...(p.correlationData ? { correlationData: p.correlationData } : {}),
            ...(p.contentType ? { contentType: p.contentType } : {}),
            ...(p.userProperties ? { userProperties: { ...p.userProperties } } : {}),
          }
        : undefined;
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false, ...(properties ? { properties } : {}) }, (err) => (err ? reject(err) : resolve()));
    });
  }

  private publishState(state: 'online' | 'offline'): void {
    this.client?.publish(this.settings.stateTopic, JSON.stringify({ state }), { qos: 1, retain: true }, () => undefined);
  }

  /** Publishes `offline` and disconnects cleanly (the session stays on the broker). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    if (this.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        client.publish(this.settings.stateTopic, JSON.stringify({ state: 'offline' }), { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.end(true, {}, () => resolve());
      }, 2000);
      client.end(false, this.settings.protocolVersion === 5 ? { properties: { sessionExpiryInterval: this.settings.sessionExpirySeconds } } : {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.connected = false;
    const out = this.out;
    if (out) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => out.end(true, {}, () => resolve()), 2000);
        out.end(false, {}, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.outConnected = false;
    }
  }
}
