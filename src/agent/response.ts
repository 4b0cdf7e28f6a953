/**
 * MQTT 5 request/response for utterances [MQTT-4.10]: a caller's Response Topic
 * and Correlation Data are kept with the input (inside its `request` JSON, under
 * `response`), so the result can be sent back to the caller after a restart too.
 */
import type { InboundMessage } from '../transport/mqtt-connection.js';
import { assertPublishTopic } from '../transport/topics.js';

export interface ResponseTarget {
  readonly topic: string;
  readonly correlationData?: Buffer;
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
