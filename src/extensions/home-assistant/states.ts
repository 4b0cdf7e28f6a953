/**
 * The state messages behind the Home Assistant entities: one event per
 * recognised intent, the last intent and sentiment (from each result, through
 * the outbox), and the periodic figures (from the health snapshot).
 */
import { UNKNOWN_INTENT } from '../../model/types.js';
import type { AnalysedInput, HealthSnapshot, OutboundMessage } from '../extension.js';
import type { StateTopics } from './discovery.js';
import type { IntentNamer } from './intent-names.js';

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/** The messages one answered input yields: the event (recognised intents only), last intent, last sentiment. */
export function resultMessages(result: AnalysedInput, topics: StateTopics, namer: IntentNamer): OutboundMessage[] {
  const { input, analysis } = result;
  const out: OutboundMessage[] = [];
  const intent = analysis.intent;
  const sentiment = analysis.sentiment;
  const common = {
    site: input.siteId,
    text: input.text,
    id: input.id,
    ...(sentiment ? { sentiment: sentiment.label } : {}),
    ...(analysis.lang ? { lang: analysis.lang } : {}),
  };
  if (intent) {
    const named = namer.name(intent.name, intent.slots);
    if (intent.name !== UNKNOWN_INTENT) {
      const event = {
        event_type: named.name,
        ...(named.name !== intent.name ? { intent: intent.name } : {}),
        slots: named.slots,
        confidence: round(intent.confidence),
        ...common,
      };
      out.push({ topic: topics.event, payload: JSON.stringify(event), qos: 1, retain: false });
    }
    const last = { intent: named.name, confidence: round(intent.confidence), slots: named.slots, ...common };
    out.push({ topic: topics.lastIntent, payload: JSON.stringify(last), qos: 1, retain: true });
  }
  if (sentiment) {
    const last = { sentiment: sentiment.label, score: round(sentiment.score), site: input.siteId, text: input.text, id: input.id };
    out.push({ topic: topics.lastSentiment, payload: JSON.stringify(last), qos: 1, retain: true });
  }
  return out;
}

export interface StatsPayload {
  readonly inputs_per_minute: number;
  readonly latency_p99_ms: number | null;
  /** Inputs rejected (bad payloads) plus inputs that failed inference, since the agent started. */
  readonly errors: number;
  readonly processed: number;
  readonly connected: boolean;
}

export function statsPayload(health: HealthSnapshot): StatsPayload {
  return {
    inputs_per_minute: health.inputsPerMinute,
    latency_p99_ms: health.latencyMs ? round(health.latencyMs.p99, 3) : null,
    errors: health.counts.rejected + health.counts.failed,
    processed: health.counts.processed,
    connected: health.connected,
  };
}

export function statsMessage(health: HealthSnapshot, topics: StateTopics): OutboundMessage {
  return { topic: topics.stats, payload: JSON.stringify(statsPayload(health)), qos: 1, retain: true };
}
