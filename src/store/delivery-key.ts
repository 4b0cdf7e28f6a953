/**
 * The key a broker redelivery (DUP flag) is recognised by: a hash of topic, packet id and payload, which a
 * redelivered PUBLISH repeats exactly [MQTT-4.3.2, MQTT-3.3.1-1].
 *
 * The key leads with the packet id (4 hex digits; brokers number a client's packets in turn), so that the keys of
 * inputs stored together sit together in the `inputs_delivery_key` index: a batch of inputs changes one or two of its
 * pages instead of one page each, which a bare hash (random order) did (issue 10: about 30 µs of writes and WAL
 * checkpointing a message under a flood, a seventh of the agent's CPU). Without a packet id (QoS 0, which is never
 * redelivered) the receipt time leads instead. Keys stored before this format (the bare hash) are still found:
 * `legacyDeliveryKey` gives the form they were stored in.
 */
import { createHash } from 'node:crypto';

const SEPARATOR = '.'; // not in the base64url alphabet of the hash

export function deliveryKey(topic: string, messageId: number | undefined, payload: Buffer, receivedAt: number): string {
  const hash = createHash('sha1')
    .update(topic)
    .update('\0')
    .update(String(messageId ?? ''))
    .update('\0')
    .update(payload)
    .digest('base64url');
  const lead = messageId !== undefined ? messageId.toString(16).padStart(4, '0') : `t${receivedAt.toString(36)}`;
  return `${lead}${SEPARATOR}${hash}`;
}

/** The same delivery's key as versions before this format stored it (the bare hash). */
export function legacyDeliveryKey(key: string): string {
  const at = key.indexOf(SEPARATOR);
  return at < 0 ? key : key.slice(at + 1);
}
