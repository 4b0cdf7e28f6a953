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
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { connectMqtt } from './mqtt-client.js';
import type { Logger } from '../util/logger.js';
import { redactUrl } from '../util/redact.js';
import { assertPublishTopic, filterOf } from './topics.js';
import { parseBrokerUrl, type BrokerUrl } from './broker-url.js';
import { BrokerSetupError, ReconnectSupervisor } from './reconnect-supervisor.js';

export { BrokerSetupError };

const noop = (): void => undefined;

/** Told to MQTT.js for a message handled past its packet loop: it sends no PUBACK for it (we do) and reads on. */
const HANDLED_AHEAD = new Error('acknowledged by hubnlu once stored');

/**
 * The PUBACK MQTT.js itself sends from `handleMessage`'s callback (handlers/publish.ts), for a message handled ahead:
 * same packet, same private send path (it writes at once on a connected client).
 */
function sendPuback(client: MqttClient, messageId: number): void {
  const send = (client as unknown as { _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }): void })._sendPacket;
  send.call(client, { cmd: 'puback', messageId, reasonCode: 0 });
}

export interface ConnectionSettings {
  readonly url: string;
  readonly clientId: string;
  /** 5, or 4 (MQTT 3.1.1) for brokers without MQTT 5 such as aedes. */
  readonly protocolVersion: 4 | 5;
  readonly username?: string;
  readonly password?: string;
  readonly sessionExpirySeconds: number;
  readonly keepaliveSeconds: number;
  /** First reconnect delay; doubled per failed attempt (with jitter) up to `reconnectMaxMs`. */
  readonly reconnectPeriodMs: number;
  readonly reconnectMaxMs?: number;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized: boolean };
  /** Retained availability topic: `{"state":"online"}` on connect, `offline` as the Last Will and on stop. */
  readonly stateTopic: string;
  /**
   * Publish results on a second, publish-only connection (client id `<clientId>-out`). MQTT.js handles a
   * connection's incoming packets in order, so on a shared connection the broker's PUBACKs for our results
   * queue behind a backlog of inputs and results stall until it is stored.
   */
  readonly separatePublisher?: boolean;
  /**
   * How many inbound messages may be in the handler at once (default 1). Above 1, MQTT.js reads the next packet
   * (a PINGRESP, an ack, the next input) while earlier handlers are still committing, and hubnlu sends each PUBACK
   * itself when its handler resolves: that is what lets intake commit a batch of inputs in one transaction
   * (issue 10). At the limit the packet loop waits until a handler settles. QoS 0 and 2 keep MQTT.js's own flow.
   */
  readonly ackAhead?: number;
  /**
   * With `ackAhead` above 1: how long a PUBACK may wait to share one socket write with the PUBACKs after it
   * (default 0: sent at the end of the task that stored its input, as the PUBACKs of one group commit already go
   * together). A write to the broker costs a system call, and on the same host the broker's side of the TCP
   * delivery runs in it too; at 1,000 inputs a second, one PUBACK write per input was the agent's largest MQTT
   * cost (issue 10). At most `ACK_HOLD_COUNT` PUBACKs are held: past that they go at once, so a broker that
   * limits the messages in flight to a client (mosquitto `max_inflight_messages`, default 20) is not kept waiting.
   * A held PUBACK is dropped with its connection, like one not yet sent: the broker redelivers the input and the
   * log deduplicates it.
   */
  readonly ackHoldMs?: number;
}

/** The most PUBACKs `ackHoldMs` holds back before it sends them all. */
export const ACK_HOLD_COUNT = 8;

export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly messageId?: number;
  readonly qos: 0 | 1 | 2;
  /** The broker's DUP flag: this is a redelivery of a message it sent before [MQTT-3.3.1-1]. */
  readonly redelivered: boolean;
  /** The RETAIN flag: a retained message handed over because hubnlu subscribed, not one published now [MQTT-3.3.1-9]. */
  readonly retained?: boolean;
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
export type InboundHandler = (message: InboundMessage) => Promise<unknown>;

export interface ConnectionEvents {
  online: [];
  offline: [];
}

/** MQTT 5 SUBACK reason codes that say the broker will not serve a shared subscription [MQTT-3.9.3]. */
const SHARED_NOT_SUPPORTED = 0x9e;
const TOPIC_FILTER_INVALID = 0x8f;

/**
 * Whether the broker refuses the shared subscriptions (`$share/<group>/<filter>`, from `input.shareGroup`) among
 * `subscriptions`: its CONNACK said `sharedSubscriptionAvailable: 0`, or its SUBACK (`codes`, one per subscription)
 * answered 0x9E "Shared Subscriptions not supported" or 0x8F "Topic Filter invalid" for one. That is a setup error
 * (exit 78), not something a retry can fix. Undefined when nothing shared was refused.
 */
export function sharedSubscriptionRefusal(subscriptions: readonly string[], codes: readonly number[], sharedAvailable?: boolean): BrokerSetupError | undefined {
  const shared = subscriptions.filter((s) => s.startsWith('$share/'));
  if (shared.length === 0) return undefined;
  const fix = 'this broker does not serve shared subscriptions; use one that does (mosquitto 1.6 or later, EMQX, HiveMQ, VerneMQ) or remove input.shareGroup';
  if (sharedAvailable === false) return new BrokerSetupError('input.shareGroup', fix, 'CONNACK Shared Subscription Available: 0', SHARED_NOT_SUPPORTED);
  const refused = subscriptions.map((s, i) => ({ s, code: codes[i] })).find(({ s, code }) => s.startsWith('$share/') && (code === SHARED_NOT_SUPPORTED || code === TOPIC_FILTER_INVALID));
  if (!refused) return undefined;
  const reason = refused.code === SHARED_NOT_SUPPORTED ? 'Shared Subscriptions not supported' : 'Topic Filter invalid';
  return new BrokerSetupError('input.shareGroup', fix, `SUBACK ${refused.code} ${reason} for ${refused.s}`, refused.code);
}

/** TCP_NODELAY on the client's socket (TCP and TLS; a WebSocket stream has no such switch and is left alone). */
function disableNagle(client: MqttClient): void {
  const stream = client.stream as unknown as { setNoDelay?: (noDelay: boolean) => unknown } | undefined;
  stream?.setNoDelay?.(true);
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
  private readonly supervisors: ReconnectSupervisor[] = [];
  /** Rejects a start still waiting for the broker when stop() is called. */
  private abortStart?: (err: Error) => void;
  /** Inbound messages handed to the handler and not yet acknowledged or refused (ackAhead > 1). */
  private unacked = 0;
  /** At the ackAhead limit: lets MQTT.js read the next packet once a handler settles. */
  private readOn?: () => void;
  /** Packet ids of stored inputs whose PUBACK waits for the next write (`ackHoldMs`), on the current connection. */
  private heldAcks: number[] = [];
  private ackTimer?: NodeJS.Timeout;
  /** Set while PUBACKs are being written in this task: later ones of the same task join the same socket write. */
  private ackingNow = false;

  constructor(private readonly settings: ConnectionSettings, private readonly log: Logger) {
    super();
  }

  /** Whether results can be published now. */
  get isOnline(): boolean {
    return this.out ? this.outConnected : this.connected;
  }

  private brokerUrl(): BrokerUrl {
    return parseBrokerUrl(this.settings.url);
  }

  /**
   * The URL is parsed here (WHATWG) and handed over in parts: MQTT.js would re-read a string with the legacy
   * `url.parse`, which splits a password holding '@' differently, and take a `clientId` from its query.
   */
  private baseOptions(): IClientOptions {
    const s = this.settings;
    const url = this.brokerUrl();
    const options: IClientOptions = {
      protocol: url.protocol === 'tls' ? 'mqtts' : url.protocol, // the same TLS transport; MQTT.js types lack 'tls'
      hostname: url.hostname,
      host: url.hostname,
      port: url.port,
      path: url.path,
      protocolVersion: s.protocolVersion,
      keepalive: s.keepaliveSeconds,
      reconnectPeriod: s.reconnectPeriodMs,
      // MQTT.js gives up after one refused CONNACK unless told otherwise (issue 7, defect 2); the supervisor
      // decides what a refusal means and how long to wait.
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      // MQTT.js's default (mqtt-packet's number cache) keeps 65,536 two-byte Buffers, one for every 16-bit number it
      // might write: about 6.6 MB of V8 heap for the process's lifetime (issue 10, idle RSS). Without it each packet
      // id and topic length is written into a fresh 2-byte Buffer, which costs nothing measurable per message.
      writeCache: false,
      // MQTT.js logs every step of every packet through `debug` (a dozen calls a message, each a call and a check
      // when off). Off unless DEBUG names it, the way `debug` itself is switched on.
      ...(/mqttjs/.test(process.env.DEBUG ?? '') ? {} : { log: noop }),
      username: s.username ?? url.username,
      password: s.password ?? url.password,
    };
    if (s.tls) {
      if (s.tls.ca) options.ca = readFileSync(s.tls.ca);
      if (s.tls.cert) options.cert = readFileSync(s.tls.cert);
      if (s.tls.key) options.key = readFileSync(s.tls.key);
      options.rejectUnauthorized = s.tls.rejectUnauthorized;
    }
    return options;
  }

  /** Watches one client's connection attempts: backoff, log lines, start-up failures that need a person. */
  private supervise(client: MqttClient, connection: string, clientId: string, fail: (err: Error) => void): ReconnectSupervisor {
    const s = this.settings;
    const url = this.brokerUrl();
    const supervisor = new ReconnectSupervisor(
      client,
      {
        connection,
        context: { clientId, protocolVersion: s.protocolVersion, hostname: url.hostname, username: s.username ?? url.username, tls: url.tls },
        baseDelayMs: s.reconnectPeriodMs,
        maxDelayMs: Math.max(s.reconnectPeriodMs, s.reconnectMaxMs ?? 60_000),
      },
      this.log,
    );
    this.supervisors.push(supervisor);
    // Each (re)connection is a new socket: turn Nagle's algorithm off on it. With Nagle on, a small result written
    // while an earlier segment awaits its ACK waits for it (up to the peer's delayed-ACK timer): at 1,000 msg/s that
    // put 6-8 ms on the median publish-to-result time and 20-40 ms on p99 (bench/e2e; docs/performance.md, Nagle's algorithm).
    client.on('connect', () => disableNagle(client));
    supervisor.start((err) => {
      this.log.fatal({ connection, setting: err.setting, reason: err.reason, reasonCode: err.reasonCode }, `cannot connect to the broker: ${err.message}`);
      fail(err);
    });
    return supervisor;
  }

  start(subscriptions: readonly string[], handler: InboundHandler): Promise<void> {
    this.subscriptions = subscriptions;
    const s = this.settings;
    let failStart: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      failStart = reject;
    });
    failed.catch(() => undefined);
    this.abortStart = failStart;
    const client = connectMqtt({
      ...this.baseOptions(),
      clientId: s.clientId,
      clean: false, // persistent session: the broker queues QoS 1 inputs while we are away
      // MQTT 5: an absent expiry means 0, the session dies with the connection [MQTT-3.1.2-23]. 3.1.1 sessions never expire.
      properties: s.protocolVersion === 5 ? { sessionExpiryInterval: s.sessionExpirySeconds } : undefined,
      resubscribe: false, // we subscribe ourselves whenever the broker has no session for us
      will: { topic: s.stateTopic, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true },
    });
    this.client = client;
    const inbound = this.supervise(client, 'inbound', s.clientId, (err) => failStart(err));

    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      const generation = this.generation;
      const props = packet.properties;
      const message: InboundMessage = {
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        messageId: packet.messageId,
        qos: packet.qos,
        redelivered: packet.dup === true,
        retained: packet.retain === true,
        properties:
          props && (props.responseTopic || props.correlationData || props.userProperties)
            ? {
                responseTopic: props.responseTopic,
                correlationData: props.correlationData ? Buffer.from(props.correlationData) : undefined,
                userProperties: props.userProperties as Record<string, string | string[]> | undefined,
              }
            : undefined,
      };
      const limit = s.ackAhead ?? 1;
      if (limit > 1 && packet.qos === 1) {
        // Past the packet loop: MQTT.js reads on at once (a callback with an error sends no PUBACK and only advances
        // its loop) and we send the PUBACK when the handler resolves. At the limit its loop waits until one settles.
        this.unacked++;
        const readOn = () => callback(HANDLED_AHEAD);
        if (this.unacked < limit) readOn();
        else this.readOn = readOn;
        const settle = () => {
          this.unacked--;
          const next = this.readOn;
          if (next && this.unacked < limit) {
            this.readOn = undefined;
            next();
          }
        };
        handler(message).then(
          () => {
            settle();
            // A message from a connection that is gone is redelivered by the broker and deduplicated by the log.
            if (generation === this.generation && packet.messageId !== undefined) this.acknowledge(client, packet.messageId);
          },
          (err: Error) => {
            settle();
            this.log.error({ err, topic: packet.topic }, 'input handler failed; message not acknowledged');
          },
        );
        return;
      }
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
        this.log.info(
          { url: redactUrl(s.url), clientId: s.clientId, sessionPresent: connack.sessionPresent, failedAttempts: inbound.failedAttempts },
          'connected to broker',
        );
        this.publishState('online');
        // At start, subscribe even to a resumed session: the configuration may name topics the stored session
        // lacks (an extension switched on), and extensions read retained messages that are only sent on SUBSCRIBE.
        // Re-subscribing replaces a subscription without interrupting its queued messages [MQTT-3.8.4-3].
        const ready = connack.sessionPresent && !first ? Promise.resolve() : this.subscribeAll(connack.properties?.sharedSubscriptionAvailable);
        ready.then(
          () => {
            if (!this.out) this.emit('online');
            if (first) {
              first = false;
              inbound.markRunning();
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
        this.dropHeldAcks();
        if (this.connected) {
          this.connected = false; // the supervisor logs the disconnection and the retry delay
          if (!this.out) this.emit('offline');
        }
      });
    });
    if (!s.separatePublisher) return Promise.race([inboundReady, failed]).finally(() => (this.abortStart = undefined));

    const out = connectMqtt({ ...this.baseOptions(), clientId: `${s.clientId}-out`, clean: true });
    this.out = out;
    const outbound = this.supervise(out, 'outbound', `${s.clientId}-out`, (err) => failStart(err));
    const outboundReady = new Promise<void>((resolve) => {
      let first = true;
      out.on('connect', () => {
        this.outConnected = true;
        this.emit('online');
        if (first) {
          first = false;
          outbound.markRunning();
          resolve();
        }
      });
      out.on('close', () => {
        if (!this.outConnected) return;
        this.outConnected = false;
        this.emit('offline');
      });
    });
    return Promise.race([Promise.all([inboundReady, outboundReady]).then(() => undefined), failed]).finally(() => (this.abortStart = undefined));
  }

  /**
   * Sends the PUBACK of a stored input, or holds it for `ackHoldMs` to go out with the next ones. The PUBACKs of one
   * task go in one socket write: MQTT.js corks the socket for each packet it writes and uncorks it on the next tick.
   */
  private acknowledge(client: MqttClient, messageId: number): void {
    const holdMs = this.settings.ackHoldMs ?? 0;
    if (holdMs <= 0) {
      sendPuback(client, messageId);
      return;
    }
    this.heldAcks.push(messageId);
    if (this.ackingNow || this.heldAcks.length >= ACK_HOLD_COUNT) this.sendHeldAcks(client);
    else this.ackTimer ??= setTimeout(() => this.sendHeldAcks(client), holdMs);
  }

  private sendHeldAcks(client: MqttClient): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const ids = this.heldAcks;
    if (ids.length === 0) return;
    this.heldAcks = [];
    if (!this.ackingNow) {
      this.ackingNow = true;
      process.nextTick(() => (this.ackingNow = false));
    }
    for (const id of ids) sendPuback(client, id);
  }

  /** The connection the held PUBACKs belong to is gone; their inputs come again (DUP) and are deduplicated. */
  private dropHeldAcks(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.heldAcks = [];
  }

  private subscribeAll(sharedAvailable?: boolean): Promise<void> {
    const client = this.client!;
    const unshareable = sharedSubscriptionRefusal(this.subscriptions, [], sharedAvailable);
    if (unshareable) return Promise.reject(unshareable);
    return new Promise((resolve, reject) => {
      client.subscribe(
        this.subscriptions.map((topic) => topic),
        { qos: 1 },
        (err, granted) => {
          if (err) {
            // MQTT 5 SUBACK reason codes come with the error; a refused shared subscription is a setup problem.
            const codes = (err as { packet?: { granted?: number[] } }).packet?.granted ?? [];
            return reject(sharedSubscriptionRefusal(this.subscriptions, codes, sharedAvailable) ?? err);
          }
          const refused = (granted ?? []).filter((g) => g.qos === 128 || (g as { reasonCode?: number }).reasonCode === 128);
          if (refused.length > 0) return reject(new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`));
          this.log.info({ topics: this.subscriptions }, 'subscribed');
          this.unsubscribeUnshared(client);
          resolve();
        },
      );
    });
  }

  /**
   * A shared subscription replaces the plain one of the same filter: a session that an earlier configuration (without
   * `input.shareGroup`) left on the broker still holds `hubnlu/+/utterance`, and through it this agent would get every
   * input besides its share, answering what another member of the group answers too. Unsubscribed after the shared
   * subscription is in place, so no input falls between the two; a filter that was never subscribed costs nothing.
   */
  private unsubscribeUnshared(client: MqttClient): void {
    const plain = this.subscriptions.filter((s) => s.startsWith('$share/')).map(filterOf).filter((f) => !this.subscriptions.includes(f));
    if (plain.length === 0) return;
    client.unsubscribe(plain, (err) => {
      if (err) this.log.warn({ err: err.message, topics: plain }, 'could not drop plain subscriptions left from before input.shareGroup');
      else this.log.debug({ topics: plain }, 'dropped plain subscriptions left from before input.shareGroup');
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
    for (const supervisor of this.supervisors) supervisor.stop();
    this.abortStart?.(new Error('stopped before the broker connection was made'));
    if (this.connected) this.sendHeldAcks(client);
    else this.dropHeldAcks();
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
