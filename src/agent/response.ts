/**
 * MQTT 5 request/response for utterances [MQTT-4.10]: a caller's Response Topic
 * and Correlation Data are kept with the input (inside its `request` JSON, under
 * `response`), so the result can be sent back to the caller after a restart too.
 */
import type { InboundMessage } from '../transport/mqtt-connection.js';
import { assertPublishTopic, matchTopic } from '../transport/topics.js';

export interface ResponseTarget {
  readonly topic: string;
  readonly correlationData?: Buffer;
}

/**
 * Why hubnlu will not publish to a caller's Response Topic, or undefined when it may. hubnlu publishes there in the
 * caller's name, so the topic must not be
 * - a `$` topic: those are the broker's [MQTT-4.7.2-1]; mosquitto refuses the publish and closes the connection, and
 *   an answer kept in the outbox was refused again after every reconnect;
 * - one of `own` (the base topic's `#` and every filter hubnlu subscribes to): the answer would arrive as a request
 *   made by hubnlu itself (`bridge/request/reload_models`), or stand in for another site's result or the bridge state.
 */
export function responseTopicProblem(topic: string, own: readonly string[]): string | undefined {
  if (topic.startsWith('$')) return 'the MQTT 5 Response Topic starts with "$", which is reserved for the broker (name a topic of your own, e.g. caller/<name>/inbox)';
  const taken = own.find((filter) => matchTopic(filter, topic) !== null);
  if (taken !== undefined) return `the MQTT 5 Response Topic is one hubnlu itself listens to or publishes under (${taken}) (name a topic of your own, e.g. caller/<name>/inbox)`;
  try {
    // A Response Topic must be a valid publish topic [MQTT-3.3.2-14]; the broker checks it, we check again.
    assertPublishTopic(topic);
  } catch {
    return 'the MQTT 5 Response Topic is not a valid topic name (no "+", "#" or NUL)';
  }
  return undefined;
}

/** The stored form (`request.response`): correlation data as base64. */
export function storedResponse(msg: InboundMessage): { topic: string; correlationData?: string } | undefined {
  const topic = msg.properties?.responseTopic;
  if (!topic) return undefined;
  try {
    // A Response Topic must be a valid publish topic [MQTT-3.3.2-14]; the broker checks it, we check again.
    assertPublishTopic(topic);
  } catch {
    return undefined;
  }
  const cd = msg.properties?.correlationData;
  return { topic, ...(cd && cd.length > 0 ? { correlationData: cd.toString('base64') } : {}) };
}

/** Reads `request.response` back. */
export function responseOf(request: Readonly<Record<string, unknown>>): ResponseTarget | undefined {
  const r = request.response as { topic?: unknown; correlationData?: unknown } | undefined;
  if (!r || typeof r.topic !== 'string') return undefined;
  return { topic: r.topic, correlationData: typeof r.correlationData === 'string' ? Buffer.from(r.correlationData, 'base64') : undefined };
}
