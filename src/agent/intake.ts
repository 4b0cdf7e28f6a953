/**
 * The MQTT inbound path: route the topic, parse the payload, and have the
 * input stored (a rejection with its error messages here; an accepted input
 * by the inference worker, with its result), and only then let the connection
 * acknowledge. Redeliveries are recognised and not stored twice.
 */
import { randomUUID } from 'node:crypto';
import { deliveryKey as deliveryKeyOf } from '../store/delivery-key.js';
import type { Logger } from '../util/logger.js';
import { TASKS, type TaskName } from '../model/tasks.js';
import type { DuplicateReason, LogStore, NewEntry, NewInput, OutgoingMessage, RecordOutcome } from '../store/log-store.js';
import type { FailedInput, SubmitOutcome } from '../extensions/extension.js';
import type { InboundMessage } from '../transport/mqtt-connection.js';
import { excerptOf, parsePayload, type ParseLimits, type PayloadFormat, type RejectionCode } from '../transport/input-parser.js';
import { escapeSegment, isSafeSegment, matchTopic, renderTopic, siteSegment } from '../transport/topics.js';
import { retryUntilDone } from '../util/retry.js';
import type { InferenceWorker } from './inference-worker.js';
import { responseOf, responseTopicProblem, storedResponse } from './response.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { epochOf, trace } from './latency-trace.js';

export interface Route {
  readonly topic: string;
  readonly format: PayloadFormat;
  readonly tasks: readonly TaskName[];
  readonly resultTopic: string;
  /**
   * On a topic with a site segment (`hubnlu/+/utterance`) the topic names the site; a payload `siteId`
   * that disagrees is rejected (`site_mismatch`) unless this is true. Topics without a `+` (Hermes)
   * always take the payload's siteId.
   */
  readonly payloadSiteId?: boolean;
}

export interface IntakeOptions {
  readonly routes: readonly Route[];
  readonly baseTopic: string;
  readonly limits: ParseLimits;
  /** Every extension's messages for a rejected input (the native error, Hermes' error, ...). */
  readonly failures: (failure: FailedInput) => readonly OutgoingMessage[];
  /** Topics a caller's MQTT 5 Response Topic may not name: the base topic's `#` and every filter the agent subscribes to (see response.ts). */
  readonly ownTopics?: readonly string[];
  /** Called for each accepted input (health: inputs per minute). */
  readonly onAccepted?: () => void;
  /** Group commit (input.commitBatch, input.commitWaitMs); absent: one transaction per input. */
  readonly groupCommit?: GroupCommitOptions;
  readonly now?: () => number;
}

export interface IntakeStats {
  received: number;
  accepted: number;
  rejected: number;
  duplicates: number;
}

export const DEFAULT_SITE = 'default';

export class Intake {
  private closed = false;
  readonly stats: IntakeStats = { received: 0, accepted: 0, rejected: 0, duplicates: 0 };
  /** Rejected inputs wait here for the shared transaction; each is acknowledged only after it commits. */
  private readonly commits: GroupCommit<NewEntry, RecordOutcome>;

  constructor(
    private readonly store: LogStore,
    private readonly worker: InferenceWorker,
    private readonly onRejected: () => void,
    private readonly log: Logger,
    private readonly opts: IntakeOptions,
  ) {
    this.commits = new GroupCommit((entries) => this.persist(() => this.store.recordMany(entries)), opts.groupCommit ?? { maxBatch: 1, maxWaitMs: 0 });
  }

  /** Stop accepting: later messages are held unacknowledged, so the broker keeps them for the next run. Inputs already waiting for their commit are committed now. */
  close(): void {
    this.closed = true;
    this.commits.flush();
  }

  /** Whether an `input.topics` entry matches this topic. */
  owns(topic: string): boolean {
    return this.opts.routes.some((r) => matchTopic(r.topic, topic) !== null);
  }

  /** The handler for `input.topics`: the route is the first entry whose filter matches. */
  readonly handle = (msg: InboundMessage): Promise<SubmitOutcome> => {
    const route = this.opts.routes.find((r) => matchTopic(r.topic, msg.topic) !== null);
    return this.submit(msg, route);
  };

  /**
   * Parses and stores one message as `route` says; resolves once its row (a rejection; or an accepted input with its
   * result) is committed, so the caller may acknowledge it, with what became of it (the bridge's `classify` tells).
   * Extensions that take utterances on their own topics (Hermes) come through here.
   */
  readonly submit = async (msg: InboundMessage, route?: { readonly format: PayloadFormat; readonly tasks: readonly TaskName[]; readonly resultTopic?: string; readonly topic?: string; readonly payloadSiteId?: boolean }): Promise<SubmitOutcome> => {
    if (this.closed) return new Promise(() => undefined); // never acknowledged; the session keeps it
    this.stats.received++;
    const arrivedAt = performance.now();
    const receivedAt = (this.opts.now ?? Date.now)();
    const captured = route?.topic ? matchTopic(route.topic, msg.topic) ?? [] : [];
    const responseTopic = msg.properties?.responseTopic;
    const responseProblem = responseTopic ? responseTopicProblem(responseTopic, this.opts.ownTopics ?? []) : undefined;
    const response = responseProblem === undefined ? storedResponse(msg) : undefined;
    const deliveryKey = deliveryKeyOf(msg.topic, msg.messageId, msg.payload, receivedAt);

    const parsed = parsePayload(msg.payload, route?.format ?? 'auto', this.opts.limits);
    // A `+` level names the site (`#` comes last, so the first capture is a `+`'s), empty too: `hubnlu//utterance`
    // is no site, not a topic without one whose payload may name any site. A `#` names one only when it holds one level.
    const topicSite = route?.topic?.includes('+') ? captured[0] : captured.find((c) => c.length > 0 && !c.includes('/'));
    let failure: { code: RejectionCode | 'site_mismatch' | 'invalid_response_topic' | 'retained'; message: string } | undefined = parsed.ok ? undefined : { code: parsed.code, message: parsed.message };
    const payloadSite = parsed.ok ? parsed.value.siteId : parsed.siteId;
    // The topic's site wins: broker ACLs are written per topic, so a payload must not move its answer to another site.
    const topicWins = topicSite !== undefined && !route?.payloadSiteId;
    const siteId = (topicWins ? topicSite : payloadSite ?? topicSite) ?? DEFAULT_SITE;
    // Hermes (a topic without a site level): Rhasspy's siteIds are free-form ("living room"), checked by the parser
    // (no control characters, at most 128) and echoed on the Hermes topics as sent. The site column, the native topics
    // and Home Assistant get siteSegment(siteId): one safe level, distinct for ids that escape alike. A site taken
    // from a topic level, or a payload siteId on a native route, must still be a safe segment itself.
    const hermes = route?.format === 'hermes' && topicSite === undefined;
    const site = hermes ? siteSegment(siteId) : siteId;
    if (!failure && topicWins && payloadSite !== undefined && payloadSite !== topicSite) {
      failure = {
        code: 'site_mismatch',
        message: `the payload's siteId does not match the site of the topic (${msg.topic}); leave siteId out, or set payloadSiteId: true on this entry of input.topics to let payloads choose the site`,
      };
    }
    if (!failure && !hermes && !isSafeSegment(siteId)) {
      failure = { code: 'invalid_site_id', message: 'the site id taken from the topic may hold only letters, digits, "_", "." and "-" (at most 64)' };
    }
    if (!failure && responseProblem !== undefined) failure = { code: 'invalid_response_topic', message: responseProblem };
    if (!failure && msg.retained) {
      // Handed over because we subscribed (a start without a session): an old command, not one said now.
      failure = { code: 'retained', message: 'a retained utterance is replayed to every new subscriber, so it is not answered again (publish utterances without the retain flag; clear this one with an empty retained message)' };
    }

    if (failure || !parsed.ok) {
      // Only a rejection keeps an excerpt of its payload (issue 10: ~16 µs a message that an accepted input never used).
      const excerpt = excerptOf(msg.payload);
      const partial = parsed.ok ? parsed.value : parsed;
      const id = partial.id;
      const input: NewInput = {
        id: id ?? randomUUID(),
        idSource: id ? 'payload' : 'assigned',
        deliveryKey,
        receivedAt,
        topic: msg.topic,
        siteId: hermes ? site : escapeSegment(siteId),
        sessionId: partial.sessionId,
        tasks: [],
        payloadExcerpt: excerpt,
      };
      const rejection = failure!;
      const request: Record<string, unknown> = response ? { response } : {};
      if (hermes) {
        // What a Hermes answer echoes (intentNotRecognized for an empty input): customData round-trips even here.
        const customData = parsed.ok ? parsed.value.request.customData : parsed.customData;
        if (customData !== undefined) request.customData = customData;
        request.hermes = { id: id ?? null, siteId };
        // Fields the parser refused, as sent: the rejected query's intentNotRecognized echoes them (hermes.ts); the
        // site column, topics and the log keep the default site.
        if (!parsed.ok && parsed.refused) (request.hermes as Record<string, unknown>).refused = parsed.refused;
      }
      const messages = this.opts.failures({
        input: { id: id ?? null, siteId: input.siteId, sessionId: partial.sessionId ?? null, topic: msg.topic, receivedAt, excerpt, request, response: responseOf(request) },
        stage: 'rejected',
        ...rejection,
      });
      this.log.warn({ code: rejection.code, topic: msg.topic, siteId: input.siteId, id: id ?? null }, `input rejected: ${rejection.message}`);
      const outcome = await this.commits.add({ input: { ...input, request }, rejection, messages, redelivered: msg.redelivered });
      if (outcome.duplicate) {
        this.countDuplicate(input, outcome.seq, outcome.reason);
        return { status: 'duplicate' };
      }
      this.stats.rejected++;
      this.onRejected();
      return { status: 'rejected', ...rejection };
    }

    const u = parsed.value;
    const request: Record<string, unknown> = response ? { ...u.request, response } : u.request;
    // The Hermes answer echoes the id and siteId as sent (null when no id was sent), not the assigned id or the segment.
    if (hermes) request.hermes = { id: u.id ?? null, siteId };
    const tasks = u.tasks ?? route?.tasks ?? TASKS;
    const resultTopic = renderTopic(route?.resultTopic ?? '{baseTopic}/{siteId}/result', { baseTopic: this.opts.baseTopic, siteId: site });
    const input: NewInput = {
      id: u.id ?? randomUUID(),
      idSource: u.id ? 'payload' : 'assigned',
      deliveryKey,
      receivedAt,
      topic: msg.topic,
      siteId: site,
      sessionId: u.sessionId,
      lang: u.lang,
      text: u.text,
      tasks,
      resultTopic,
      request,
      payloadExcerpt: undefined,
    };
    // Back-pressure: with the queue full we hold the acknowledgement, so the broker (not our heap) buffers the flood.
    await this.worker.waitForRoom();
    if (this.closed) {
      // Stopping while it waited for room: the broker keeps it for the next run.
      this.worker.unreserve();
      return new Promise(() => undefined);
    }
    if (trace) trace.stamp(input.id, 'arrived', epochOf(arrivedAt));
    // Stored with its result, in one transaction (issue 10); resolved only then, so the caller acknowledges a stored input.
    const outcome = await this.worker.answer(input, msg.redelivered, arrivedAt);
    if (outcome.duplicate) {
      this.countDuplicate(input, outcome.seq, outcome.reason);
      return { status: 'duplicate' };
    }
    this.stats.accepted++;
    this.opts.onAccepted?.();
    return { status: 'accepted' };
  };

  private countDuplicate(input: NewInput, seq: number, reason: DuplicateReason): void {
    this.stats.duplicates++;
    this.log.debug(
      { id: input.idSource === 'payload' ? input.id : null, topic: input.topic, siteId: input.siteId, seq, reason },
      reason === 'redelivery' ? 'duplicate input ignored: a broker redelivery of a stored message' : 'duplicate input ignored: the same id and content from this topic and site within input.dedupeWindowSeconds',
    );
  }

  /** Commits with retries (database locked, disk full): the message stays unacknowledged until its row is written. */
  private persist<T>(write: () => T): Promise<T> {
    return retryUntilDone(write, {
      shouldStop: () => this.closed,
      onError: (err, attempt) => {
        if (attempt === 1 || attempt % 20 === 0) {
          this.log.error({ err: err.message, code: (err as { code?: string }).code, attempt }, 'cannot store input; not acknowledging, retrying');
        }
      },
    });
  }
}
