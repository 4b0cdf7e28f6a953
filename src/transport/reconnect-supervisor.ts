/**
 * Keeps one MQTT.js client trying to reach its broker, politely (issue 7, defects 2, 6 and 7).
 *
 * MQTT.js left to itself stops for good after one refused CONNACK (it sets `reconnectSuppressed`), and
 * otherwise retries at a fixed period and emits an error on every attempt. Here:
 * - the client keeps MQTT.js's own reconnect timer (which resends unacknowledged QoS 1 publishes from its
 *   store), with `reconnectOnConnackError` on; the supervisor sets `options.reconnectPeriod` before each
 *   timer is armed, from a capped exponential backoff with jitter;
 * - each change of cause is logged once, with what the broker said; repeats only at attempts 2, 4, 8, …
 *   and at least every `summaryIntervalMs`, as a summary (attempt count, next retry, last error);
 * - before the first successful connect, a failure waiting cannot fix (refused credentials, untrusted
 *   certificate, unsupported protocol version, rejected client id) ends the start with a BrokerSetupError;
 * - a session taken over by another client with the same id (MQTT 5 DISCONNECT 142; for 3.1.1, repeated closes
 *   right after connecting) is named, with the fix, and backed off from instead of fought every second.
 */
import type { IDisconnectPacket, MqttClient } from 'mqtt';
import type { Logger } from '../util/logger.js';
import { Backoff } from './backoff.js';
import { classifyConnectError, reasonName, type ConnectContext, type ConnectFailure } from './connect-errors.js';

/** The broker setup needs a person: exit 78 (EXIT.needsAttention) at start-up. */
export class BrokerSetupError extends Error {
  constructor(
    readonly setting: string,
    readonly fix: string,
    readonly reason: string,
    readonly reasonCode?: number,
  ) {
    super(`${setting}: ${fix} (broker said: ${reason})`);
    this.name = 'BrokerSetupError';
  }
}

export interface SupervisorOptions {
  /** Which of the agent's connections, for the log: `inbound` or `outbound`. */
  readonly connection: string;
  readonly context: ConnectContext;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A connection that held this long counts as a success: the backoff starts over. */
  readonly stableMs?: number;
  /** Longest gap between two log lines while the same failure repeats. */
  readonly summaryIntervalMs?: number;
  /** 3.1.1: this many closes in a row right after connecting, with no error, mean another client takes the session. */
  readonly takeoverCloses?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

type Phase = 'starting' | 'running' | 'stopped';

const TAKEOVER = 'takeover';

export class ReconnectSupervisor {
  private phase: Phase = 'starting';
  private backoff!: Backoff;
  /** The delay for the current failed attempt is set (MQTT.js may report one failure twice: error, then close). */
  private scheduled = false;
  private connectedAt?: number;
  /** An error seen on the live connection, reported when it closes. */
  private sessionError?: ConnectFailure;
  /** MQTT 5: the reason code of a DISCONNECT the broker sent on the live connection. */
  private serverDisconnect?: number;
  private quickCloses = 0;
  private loggedCause?: string;
  private lastLineAt = 0;
  private failingSince?: number;
  private lastFailure?: ConnectFailure;
  private onFatal: (err: BrokerSetupError) => void = () => undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly opts: SupervisorOptions,
    private readonly log: Logger,
  ) {}

  private get now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Failed attempts since the backoff last started over. */
  get failedAttempts(): number {
    return this.backoff?.attempts ?? 0;
  }

  /** Starts watching the client; `onFatal` is called (once) for a failure that retrying cannot fix at start-up. */
  start(onFatal: (err: BrokerSetupError) => void): void {
    this.onFatal = onFatal;
    this.backoff = new Backoff(this.opts.baseDelayMs, this.opts.maxDelayMs, this.opts.random);
    const client = this.client;
    client.options.reconnectPeriod = this.opts.baseDelayMs;
    // Before MQTT.js's own 'close' listener, which arms the reconnect timer with options.reconnectPeriod.
    client.prependListener('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('disconnect', (packet: IDisconnectPacket) => {
      this.serverDisconnect = packet.reasonCode ?? 0;
    });
    client.on('reconnect', () => {
      this.scheduled = false;
    });
    client.on('connect', () => this.onConnect());
  }

  /** The first connect and subscribe succeeded: from now on every failure is retried. */
  markRunning(): void {
    if (this.phase === 'starting') this.phase = 'running';
  }

  stop(): void {
    this.phase = 'stopped';
  }

  private onConnect(): void {
    this.connectedAt = this.now;
    this.scheduled = false;
    this.sessionError = undefined;
    this.serverDisconnect = undefined;
    // A timer MQTT.js arms on its own (keepalive timeout while connected) uses this; after a live connection, start low.
    this.client.options.reconnectPeriod = this.opts.baseDelayMs;
    if (this.loggedCause !== undefined && this.loggedCause !== TAKEOVER) {
      this.log.info({ connection: this.opts.connection, failedAttempts: this.backoff.attempts, lastError: this.lastFailure?.reason }, 'broker reachable again');
      this.loggedCause = undefined;
    }
    this.failingSince = undefined;
  }

  private onError(err: Error): void {
    if (this.phase === 'stopped') return;
    const failure = classifyConnectError(err, this.opts.context);
    if (this.connectedAt !== undefined) {
      // The live connection is failing; its 'close' follows and is handled there.
      this.sessionError ??= failure;
      return;
    }
    this.quickCloses = 0; // the broker could not be reached: an outage, not another client taking the session
    this.failed(failure);
  }

  private onClose(): void {
    if (this.phase === 'stopped') return;
    if (this.connectedAt === undefined) {
      // An attempt that ended without an error event (the broker hung up before CONNACK).
      if (!this.scheduled) {
        this.quickCloses = 0;
        this.failed({ cause: 'net:closed', reason: 'the broker closed the connection before answering' });
      }
      return;
    }
    const lived = this.now - this.connectedAt;
    this.connectedAt = undefined;
    const stable = lived >= (this.opts.stableMs ?? 10_000);
    const ctx = this.opts.context;
    let failure: ConnectFailure;
    let takeover = false;
    if (this.serverDisconnect === 142) {
      takeover = true; // [MQTT-3.1.4-3]: the broker ends the existing connection of a client id that connects again
      failure = { cause: TAKEOVER, reason: `DISCONNECT 142 ${reasonName(142)}`, reasonCode: 142 };
    } else if (this.serverDisconnect !== undefined) {
      failure = { cause: `disconnect:${this.serverDisconnect}`, reason: `DISCONNECT ${this.serverDisconnect} ${reasonName(this.serverDisconnect)}`, reasonCode: this.serverDisconnect };
    } else if (this.sessionError) {
      failure = this.sessionError;
    } else {
      failure = { cause: 'net:closed', reason: 'the broker closed the connection' };
      // MQTT 3.1.1 has no DISCONNECT from the broker, and brokers such as mosquitto 2.0 send none on a takeover in
      // MQTT 5 either: the old connection is just closed [MQTT-3.1.4-2]. Closes right after connecting, with the broker
      // reachable again at once, are the sign.
      if (!stable) {
        this.quickCloses++;
        if (this.quickCloses >= (this.opts.takeoverCloses ?? 3)) {
          takeover = true;
          failure = { cause: TAKEOVER, reason: `the broker closed the connection ${this.quickCloses} times in a row soon after it was made, and accepted the next one at once` };
        }
      }
    }
    if (stable) this.quickCloses = 0;
    if (stable && !takeover) {
      this.backoff.reset();
      if (this.loggedCause === TAKEOVER) this.loggedCause = undefined;
    }
    this.sessionError = undefined;
    this.serverDisconnect = undefined;
    if (!takeover && failure.cause === 'net:closed' && !this.scheduled) {
      // A plain drop (broker restarted, network blip): one line, then the usual failure accounting.
      const delay = this.schedule();
      this.log.warn({ connection: this.opts.connection, clientId: ctx.clientId, connectedForMs: lived, retryInMs: delay }, `disconnected from broker; reconnecting in ${formatDelay(delay)}`);
      this.lastFailure = failure;
      this.failingSince ??= this.now;
      return;
    }
    this.failed(failure, takeover);
  }

  /** Sets the delay MQTT.js will wait before its next attempt. */
  private schedule(): number {
    const delay = this.backoff.next();
    this.client.options.reconnectPeriod = delay;
    this.scheduled = true;
    return delay;
  }

  private failed(failure: ConnectFailure, takeover = false): void {
    if (this.scheduled) return;
    if (this.phase === 'starting' && failure.config) {
      this.phase = 'stopped';
      this.client.end(true); // sets `disconnecting`: MQTT.js arms no further timer
      this.onFatal(new BrokerSetupError(failure.config.setting, failure.config.fix, failure.reason, failure.reasonCode));
      return;
    }
    const delay = this.schedule();
    const now = this.now;
    this.failingSince ??= now;
    this.lastFailure = failure;
    const attempt = this.backoff.attempts;
    const ctx = this.opts.context;
    const fields = {
      connection: this.opts.connection,
      clientId: ctx.clientId,
      attempt,
      retryInMs: delay,
      reason: failure.reason,
      ...(failure.reasonCode !== undefined ? { reasonCode: failure.reasonCode, reasonName: reasonName(failure.reasonCode) } : {}),
      ...(failure.config ? { setting: failure.config.setting, fix: failure.config.fix } : {}),
    };
    if (failure.cause !== this.loggedCause) {
      this.loggedCause = failure.cause;
      this.lastLineAt = now;
      if (takeover) {
        this.log.error(
          fields,
          `session ${failure.reasonCode === 142 ? '' : 'probably '}taken over: another client connected with client id "${ctx.clientId}" (${failure.reason}); two agents with one client id disconnect each other. ` +
            'Give each agent its own mqtt.clientId, or, to share the inputs between agents, subscribe them through a shared subscription ($share/<group>/<filter> in input.topics). ' +
            `Backing off: next attempt in ${formatDelay(delay)}`,
        );
      } else if (failure.reasonCode !== undefined || failure.config) {
        this.log.error(fields, `broker refused the connection: ${failure.reason}${failure.config ? ` (${failure.config.fix})` : ''}; retrying in ${formatDelay(delay)}`);
      } else {
        this.log.warn(fields, `cannot reach the broker: ${failure.reason}; retrying in ${formatDelay(delay)}`);
      }
      return;
    }
    const powerOfTwo = (attempt & (attempt - 1)) === 0;
    if (powerOfTwo || now - this.lastLineAt >= (this.opts.summaryIntervalMs ?? 300_000)) {
      this.lastLineAt = now;
      const since = Math.round((now - (this.failingSince ?? now)) / 1000);
      this.log.warn(
        { ...fields, failingForS: since },
        `${takeover ? 'session still being taken over' : 'still no connection to the broker'}: ${attempt} attempts in ${since} s, last error: ${failure.reason}; next retry in ${formatDelay(delay)}`,
      );
      return;
    }
    this.log.debug(fields, 'connection attempt failed');
  }
}

function formatDelay(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
