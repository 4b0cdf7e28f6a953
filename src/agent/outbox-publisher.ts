/**
 * Publishes the outbox at QoS 1 and marks each row published when its PUBACK
 * arrives. Rows survive restarts and outages: whatever is unpublished when the
 * connection comes (back) is sent, oldest first. A bounded window of
 * unacknowledged publishes keeps memory flat during a backlog.
 */
import type { Logger } from '../util/logger.js';
import type { LogStore, OutboxRow } from '../store/log-store.js';
import type { MqttConnection } from '../transport/mqtt-connection.js';
import { trace } from './latency-trace.js';

export interface PublisherOptions {
  /** Most publishes awaiting PUBACK at once. */
  readonly window?: number;
  readonly now?: () => number;
  /** True while writes that can wait should (the WAL is being started over, store/checkpointer.ts): acknowledgements are then recorded a little later. */
  readonly deferWrites?: () => boolean;
}

export class OutboxPublisher {
  private readonly inFlight = new Set<number>();
  private readonly acked: number[] = [];
  /** Highest outbox seq handed to the client since the last (re)connect. */
  private cursor = 0;
  private pumping = false;
  private pumpAgain = false;
  /**
   * The last read of the outbox stopped at the publish window (or did not run for it), so rows may wait beyond it:
   * a PUBACK, which frees a place, must read again. Otherwise a PUBACK reads nothing new (issue 10: one read of the
   * outbox a result saved at low rates, where each PUBACK came alone).
   */
  private windowFull = false;
  private flushTimer?: NodeJS.Timeout;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  published = 0;

  constructor(
    private readonly store: LogStore,
    private readonly connection: MqttConnection,
    private readonly log: Logger,
    private readonly opts: PublisherOptions = {},
  ) {}

  start(): void {
    this.connection.on('online', this.onOnline);
  }

  private readonly onOnline = (): void => {
    // MQTT.js resends its own unacknowledged publishes on a resumed session; start after them.
    this.cursor = this.inFlight.size > 0 ? Math.max(...this.inFlight) : 0;
    this.kick();
  };

  /**
   * Something new may be in the outbox. The pump runs in a microtask: the kicks of one task (a batch of results
   * committed, its PUBACKs) share one read of the outbox, and the results go to the socket before the event loop
   * turns. A `setImmediate` here put one more event-loop hop between every result's commit and its publish (issue
   * 10, latency at 1,000 msg/s: the hop waits for the poll phase and every immediate queued before it).
   */
  kick(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    queueMicrotask(() => this.pump());
  }

  /**
   * Rows just committed, in seq order (the worker's batch). When they are the next rows after the last one handed to
   * the client and the window has room for them all, they go to the socket now, without reading them back (issue 10:
   * one read of the outbox a batch saved); otherwise a kick reads the outbox as usual.
   */
  offer(rows: readonly OutboxRow[]): void {
    if (rows.length === 0) return;
    const room = (this.opts.window ?? 128) - this.inFlight.size;
    if (this.pumping || this.stopped || !this.connection.isOnline || rows[0].seq !== this.cursor + 1 || rows.length > room) {
      this.kick();
      return;
    }
    for (const row of rows) {
      this.cursor = row.seq;
      this.send(row);
    }
  }

  private pump(): void {
    if (this.stopped) {
      this.pumping = false;
      return;
    }
    try {
      do {
        this.pumpAgain = false;
        if (!this.connection.isOnline) break;
        const room = (this.opts.window ?? 128) - this.inFlight.size;
        this.windowFull = room <= 0;
        if (room <= 0) break;
        const rows = this.store.unpublished(this.cursor, room);
        this.windowFull = rows.length === room;
        for (const row of rows) {
          this.cursor = Math.max(this.cursor, row.seq);
          if (this.inFlight.has(row.seq)) continue;
          this.send(row);
        }
        if (rows.length === room) this.pumpAgain = true;
      } while (this.pumpAgain);
    } catch (err) {
      // An error no retry can fix (fatal: the store told the agent, which stops) is not retried.
      if ((err as { fatal?: boolean }).fatal) return;
      this.log.error({ err: (err as Error).message }, 'cannot read the outbox; retrying');
      setTimeout(() => this.kick(), 500);
    } finally {
      this.pumping = false;
    }
  }

  private send(row: OutboxRow): void {
    this.inFlight.add(row.seq);
    if (trace) {
      const id = (JSON.parse(row.payload.toString()) as { id?: unknown }).id;
      if (typeof id === 'string') {
        trace.alias(row.seq, id);
        trace.stamp(id, 'sent');
      }
    }
    this.connection.publish(row.topic, row.payload, { qos: row.qos, retain: row.retain, properties: row.properties }).then(
      () => this.onAck(row.seq),
      (err: Error) => {
        this.inFlight.delete(row.seq);
        this.log.warn({ err: err.message, seq: row.seq, topic: row.topic }, 'publish failed; will retry after reconnect');
        try {
          this.store.noteAttempt(row.seq);
        } catch {
          // counting attempts is best effort
        }
        this.notifyIdle();
      },
    );
  }

  private onAck(seq: number): void {
    trace?.stampSeq(seq, 'puback');
    this.inFlight.delete(seq);
    this.acked.push(seq);
    this.published++;
    if (this.acked.length >= 256) this.flushAcks();
    else this.flushTimer ??= setTimeout(() => this.flushAcks(), 20);
    if (this.windowFull) this.kick();
  }

  /** Marks acknowledged rows published, in one transaction (`now`: even during a pause in writes, see `deferWrites`). */
  flushAcks(now = false): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.acked.length === 0 || this.stopped) {
      this.notifyIdle();
      return;
    }
    if (!now && this.opts.deferWrites?.() && this.acked.length < 4096) {
      // A few milliseconds later: a commit now would spoil the pause in which the WAL starts over.
      this.flushTimer = setTimeout(() => this.flushAcks(), 5);
      return;
    }
    const seqs = this.acked.splice(0);
    try {
      this.store.markPublished(seqs, (this.opts.now ?? Date.now)());
    } catch (err) {
      // Not fatal: the rows are republished after a restart (at-least-once), so keep them for the next flush.
      this.acked.unshift(...seqs);
      if ((err as { fatal?: boolean }).fatal) return;
      this.log.warn({ err: (err as Error).message, rows: seqs.length }, 'cannot mark messages published; retrying');
      this.flushTimer = setTimeout(() => this.flushAcks(), 500);
      return;
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.inFlight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((w) => w());
  }

  /** Waits (at most `timeoutMs`) until everything handed to the client is acknowledged and recorded. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.kick();
    await new Promise((resolve) => setImmediate(resolve));
    const done = new Promise<boolean>((resolve) => {
      if (this.inFlight.size === 0) return resolve(true);
      this.idleWaiters.push(() => resolve(true));
    });
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    const ok = await Promise.race([done, timeout]);
    this.flushAcks(true);
    return ok;
  }

  /** Records the last acknowledgements; after this the database may close. Late PUBACKs are forgotten (the rows are republished next start). */
  stop(): void {
    this.connection.off('online', this.onOnline);
    this.flushAcks(true);
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }
}
