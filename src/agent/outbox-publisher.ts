/**
 * Publishes the outbox at QoS 1 and marks each row published when its PUBACK
 * arrives. Rows survive restarts and outages: whatever is unpublished when the
 * connection comes (back) is sent, oldest first. A bounded window of
 * unacknowledged publishes keeps memory flat during a backlog.
 *
 * A publish the broker *refuses* on an open connection (an MQTT 5 PUBACK with a definite reason code such as 0x87
 * Not authorized, transport/publish-refusal.ts) is not a lost connection: sending it again after every reconnect
 * would be refused again, for ever. Its row is marked refused (migration 6) and set aside, logged, and told on the
 * site's error topic; `hubnlu outbox retry` puts it back in the queue once the broker allows it. The log lines and
 * notices are coalesced (refusal-window.ts): an ACL that denies a whole site refuses every one of its results, and one
 * line and one notice each would flood both. Any other
 * failure (connection closed, timeout, an ambiguous reason code) keeps the row unpublished, to be sent again after
 * the next reconnect: nothing is given up on without the broker's definite word.
 */
import type { Logger } from '../util/logger.js';
import type { LogStore, OutboxRow, RefusedInput } from '../store/log-store.js';
import type { MqttConnection } from '../transport/mqtt-connection.js';
import { trace } from './latency-trace.js';
import { publishRefusal, type PublishRefusal } from '../transport/publish-refusal.js';
import { CoalescingWindows, type ClosedWindow } from './refusal-window.js';

/** How long the refusals of one topic and reason code share a log line, and those told on one error topic a notice. */
export const REFUSAL_WINDOW_MS = 60_000;

interface Refused {
  readonly seq: number;
  readonly topic: string;
  readonly refusal: PublishRefusal;
}

/** What the publisher tells about a message the broker refused: a message to publish (not stored), or nothing. */
export type RefusalNotice = (refused: { readonly seq: number; readonly topic: string; readonly refusal: PublishRefusal; readonly input: RefusedInput }) =>
  | { readonly topic: string; readonly payload: string }
  | undefined;

export interface PublisherOptions {
  /** Most publishes awaiting PUBACK at once. */
  readonly window?: number;
  readonly now?: () => number;
  /** True while writes that can wait should (the WAL is being started over, store/checkpointer.ts): acknowledgements are then recorded a little later. */
  readonly deferWrites?: () => boolean;
  /** Builds the message that tells of a refused result (the agent: the site's error topic). Absent: none is sent. */
  readonly refusalNotice?: RefusalNotice;
  /**
   * How often to look for rows another process queued (`hubnlu outbox retry`), ms: a `PRAGMA data_version` read,
   * and a read of the outbox only when it changed. Default 1000; 0: never (they go out at the next result or reconnect).
   */
  readonly pollMs?: number;
  /**
   * Refusals are logged and told in windows of this length (ms, default REFUSAL_WINDOW_MS, on the `now` clock): the
   * first refusal of a topic and reason code is logged at once, the others in its window are counted and summarised in
   * one line when it ends; a site's error topic gets the notice of the first refusal of each topic and reason code in
   * a window, not one per message. The database marks every refused row either way.
   */
  readonly refusalWindowMs?: number;
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
  private pollTimer?: NodeJS.Timeout;
  published = 0;
  /** Messages the broker refused (and that were set aside) since start. */
  refused = 0;
  /** Notices of refusals left unsent since start, the first of their window having told the same. */
  noticesHeld = 0;
  /** Per topic and reason code: the refusal logged at once, and how many more its window counted. */
  private readonly refusalLog: CoalescingWindows<Refused>;
  /** Per notice topic, refused topic and reason code: whether the site has been told in this window. */
  private readonly refusalNotices: CoalescingWindows<Refused>;
  private refusalTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: LogStore,
    private readonly connection: MqttConnection,
    private readonly log: Logger,
    private readonly opts: PublisherOptions = {},
  ) {
    const windowMs = opts.refusalWindowMs ?? REFUSAL_WINDOW_MS;
    this.refusalLog = new CoalescingWindows(windowMs);
    this.refusalNotices = new CoalescingWindows(windowMs);
  }

  start(): void {
    this.connection.on('online', this.onOnline);
    const pollMs = this.opts.pollMs ?? 1000;
    if (pollMs > 0) {
      try {
        this.store.changedElsewhere(); // records the present version
      } catch {
        // the next poll tries again
      }
      this.pollTimer = setInterval(() => this.poll(), pollMs);
      this.pollTimer.unref();
    }
  }

  /** Rows another process put in the outbox (a re-queued refusal) have seqs past the cursor: one kick sends them. */
  private poll(): void {
    if (this.stopped) return;
    try {
      if (this.store.changedElsewhere()) this.kick();
    } catch {
      // a database error here is found (and reported) by the agent's next write
    }
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
        const refusal = publishRefusal(err);
        if (refusal && this.setAside(row, refusal)) {
          // The broker answered on an open connection: the place in the window is free now (no reconnect will kick).
          if (this.windowFull) this.kick();
        } else {
          const code = (err as { code?: unknown }).code;
          const reasonCode = typeof code === 'number' ? code : undefined;
          this.log.warn({ err: err.message, seq: row.seq, topic: row.topic, reasonCode }, 'publish failed; will retry after reconnect');
          try {
            this.store.noteAttempt(row.seq);
          } catch {
            // counting attempts is best effort
          }
        }
        this.notifyIdle();
      },
    );
  }

  /**
   * Marks a refused row in the database, logs it once and sends the notice. False when the mark could not be written
   * (the database busy, the agent stopping): the row then stays unpublished and is sent again after a reconnect, as
   * any failed publish.
   */
  private setAside(row: OutboxRow, refusal: PublishRefusal): boolean {
    if (this.stopped) return false;
    let input: RefusedInput | undefined;
    try {
      input = this.store.markRefused(row.seq, (this.opts.now ?? Date.now)(), refusal.code, refusal.name);
    } catch (err) {
      if (!(err as { fatal?: boolean }).fatal) this.log.warn({ err: (err as Error).message, seq: row.seq }, 'cannot mark a refused message; it will be sent again after a reconnect');
      return false;
    }
    this.refused++;
    const now = (this.opts.now ?? Date.now)();
    // Windows that ended are summarised before a refusal opens a new one (the lines stay in order).
    this.closeRefusalWindows(now);
    const refused: Refused = { seq: row.seq, topic: row.topic, refusal };
    if (this.refusalLog.admit(`${refusal.code} ${row.topic}`, refused, now)) {
      this.log.error(
        { seq: row.seq, topic: row.topic, reasonCode: refusal.code, reason: refusal.name, id: input?.id, siteId: input?.siteId },
        `the broker refused the message on ${row.topic} (${refusal.text}); set aside, not resent: fix the broker's ACL or limits, then \`hubnlu outbox retry ${row.seq}\`` +
          ` (more refusals on this topic for this reason in the next ${seconds(this.refusalLog.windowMs)} s are counted in one line)`,
      );
    }
    this.scheduleRefusalClose(now);
    if (!input) return true;
    let notice: ReturnType<RefusalNotice>;
    try {
      notice = this.opts.refusalNotice?.({ seq: row.seq, topic: row.topic, refusal, input });
    } catch (err) {
      this.log.warn({ err: (err as Error).message, seq: row.seq }, 'cannot build the refusal notice');
      return true;
    }
    // Never a notice about a refused notice (or about an error message refused on the very topic the notice would use).
    if (!notice || notice.topic === row.topic) return true;
    // The site's error topic has been told of this topic's refusal in this window: the row is marked, and listed by
    // `hubnlu outbox list --refused`. (Keyed by the notice topic too: a denied topic shared by sites tells each site.)
    if (!this.refusalNotices.admit(`${refusal.code} ${row.topic} ${notice.topic}`, refused, now)) {
      this.noticesHeld++;
      return true;
    }
    const topic = notice.topic;
    const failed = (err: Error): void =>
      this.log.warn({ err: err.message, topic, seq: row.seq }, 'cannot publish the refusal notice (the broker may deny that topic too); the refusal is in the database');
    try {
      this.connection.publish(topic, notice.payload, { qos: 1 }).then(() => undefined, failed);
    } catch (err) {
      failed(err as Error);
    }
    return true;
  }

  /** Logs one line for each ended window (all of them with `all`) that counted refusals beyond its first. */
  private closeRefusalWindows(now: number, all = false): void {
    this.refusalNotices.close(now, all);
    for (const w of this.refusalLog.close(now, all)) this.summarise(w);
  }

  private summarise(w: ClosedWindow<Refused>): void {
    if (w.more === 0 || !w.last) return;
    const { topic, refusal } = w.first;
    this.log.error(
      { topic, reasonCode: refusal.code, reason: refusal.name, more: w.more, firstSeq: w.first.seq, lastSeq: w.last.seq, windowMs: w.spanMs },
      `…and ${w.more} more refused on ${topic} (${refusal.text}) in the last ${seconds(w.spanMs)} s (#${w.first.seq} was logged; the last was #${w.last.seq}); ` +
        'set aside, not resent: `hubnlu outbox list --refused` lists them, `hubnlu outbox retry --all` re-queues them',
    );
  }

  /** Closes the windows when the earliest of them ends (a timer that keeps nothing alive). */
  private scheduleRefusalClose(now: number): void {
    if (this.refusalTimer || this.stopped) return;
    const ends = [this.refusalLog.nextEnd(), this.refusalNotices.nextEnd()].filter((e): e is number => e !== undefined);
    if (ends.length === 0) return;
    this.refusalTimer = setTimeout(() => {
      this.refusalTimer = undefined;
      if (this.stopped) return;
      const at = (this.opts.now ?? Date.now)();
      this.closeRefusalWindows(at);
      this.scheduleRefusalClose(at);
    }, Math.max(0, Math.min(...ends) - now) + 1);
    this.refusalTimer.unref();
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
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.flushAcks(true);
    // What the open windows counted is told now: nothing counted is left untold at a stop.
    if (this.refusalTimer) clearTimeout(this.refusalTimer);
    this.refusalTimer = undefined;
    if (!this.stopped) this.closeRefusalWindows((this.opts.now ?? Date.now)(), true);
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }
}

/** `60` for 60,000 ms; at least 1. */
function seconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}
