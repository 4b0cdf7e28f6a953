/**
 * Which failed publishes are a broker's definite "no" to this message (a dead letter), and which may succeed when
 * sent again. MQTT.js 5 rejects a QoS 1/2 publish whose PUBACK or PUBREC carries a reason code other than 0x00 and
 * 0x10 with an `ErrorWithReasonCode` (`code`: the number; handlers/ack.js); a closed connection or a timeout rejects
 * with an Error whose `code` is absent or a string. Only the first kind, with a code below, is a refusal: the broker
 * answered on an open connection and will answer the same again until someone changes its configuration (the ACL,
 * `message_size_limit`). Everything else keeps the no-loss path: the row stays unpublished and is sent again after
 * the next reconnect.
 */
import { reasonName } from './connect-errors.js';

/**
 * PUBACK/PUBREC reason codes [MQTT-3.4.2.1] that refuse this message for good on this broker's present
 * configuration. Left out on purpose, so retried as before: 0x80 Unspecified error and 0x83 Implementation specific
 * error (a plugin's or a broker's passing trouble as often as a rule), 0x91 Packet Identifier in use (a session
 * mix-up, gone after a reconnect), 0x97 Quota exceeded (a rate limit: later it passes).
 */
export const DEFINITE_REFUSALS: ReadonlySet<number> = new Set([
  0x87, // Not authorized: the broker's ACL denies this client the topic (mosquitto `acl_file`, a dynamic-security role)
  0x90, // Topic Name invalid: well formed, yet not accepted by this broker
  0x95, // Packet too large: mosquitto's `message_size_limit` (sent in a PUBACK although the spec lists it for DISCONNECT)
  0x99, // Payload format invalid: the payload disagrees with its Payload Format Indicator
]);

export interface PublishRefusal {
  /** The reason code, e.g. 135. */
  readonly code: number;
  /** Its MQTT 5 name, e.g. "Not authorized". */
  readonly name: string;
  /** `0x87 Not authorized`, for messages. */
  readonly text: string;
}

/** The broker's definite refusal in a publish error, or undefined when the publish may yet succeed (see above). */
export function publishRefusal(err: unknown): PublishRefusal | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'number' || !DEFINITE_REFUSALS.has(code)) return undefined;
  return { code, name: reasonName(code), text: reasonText(code) };
}

/** `0x87 Not authorized` for any reason code (a stored refusal, a retried one in a log line). */
export function reasonText(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')} ${reasonName(code)}`;
}
