/**
 * What a failed connection attempt means, and whether waiting can fix it (issue 7, defects 2 and 6).
 *
 * A refused CONNACK, an untrusted certificate or a TLS port mismatch is a configuration problem: at start-up the
 * agent exits with EXIT.needsAttention (78) naming the setting and the fix, since retrying cannot help. Once the
 * agent has been connected, the same refusals are retried with backoff (a broker restarted with a changed
 * password file will be fixed by someone). A network failure (refused, unreachable, no DNS yet, timeout) is
 * always retried.
 */
// First: MQTT.js must find Node's timers in place of worker-timers when it loads (src/transport/mqtt-timers.ts).
import './mqtt-timers.js';
import { ReasonCodes } from 'mqtt';

export interface ConnectContext {
  readonly clientId: string;
  readonly protocolVersion: 4 | 5;
  readonly hostname: string;
  readonly username?: string;
  readonly tls: boolean;
}

export interface ConnectFailure {
  /** Stable key: the same cause is logged once, not on every attempt. */
  readonly cause: string;
  /** What happened, for the log: `CONNACK 135 Not authorized`, `ECONNREFUSED …`. */
  readonly reason: string;
  /** The broker's reason or return code, when it answered. */
  readonly reasonCode?: number;
  /** Set when waiting cannot fix it: the setting to change and how. */
  readonly config?: { readonly setting: string; readonly fix: string };
}

/** Node's codes for a certificate the client cannot trust. */
const UNTRUSTED_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);

/** A CONNACK code's name, for 3.1.1 return codes (1-5) and MQTT 5 reason codes alike. */
export function reasonName(code: number): string {
  return (ReasonCodes as Record<number, string>)[code] || `reason code ${code}`;
}

export function classifyConnectError(err: Error, ctx: ConnectContext): ConnectFailure {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return classifyConnack(code, ctx);
  const name = typeof code === 'string' ? code : undefined;
  const reason = name && !err.message.includes(name) ? `${name}: ${err.message}` : err.message;
  if (name && UNTRUSTED_CERT.has(name)) {
    return {
      cause: `tls:${name}`,
      reason,
      config: {
        setting: 'mqtt.tls.ca',
        fix: `the broker's certificate is not trusted (${name}): set mqtt.tls.ca to the PEM file of the CA that signed it`,
      },
    };
  }
  if (err.message === 'TLS not authorized') {
    return { cause: 'tls:not-authorized', reason, config: { setting: 'mqtt.tls.ca', fix: "the broker's certificate is not trusted: set mqtt.tls.ca to the PEM file of the CA that signed it" } };
  }
  if (name === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      cause: `tls:${name}`,
      reason,
      config: {
        setting: 'mqtt.url',
        fix: `the broker's certificate is not issued for "${ctx.hostname}": put a host name the certificate names in mqtt.url, or reissue the broker certificate with this name`,
      },
    };
  }
  if (name === 'CERT_HAS_EXPIRED') {
    return { cause: `tls:${name}`, reason, config: { setting: 'mqtt.url', fix: "the broker's certificate has expired: renew it on the broker" } };
  }
  if (name === 'ERR_SSL_WRONG_VERSION_NUMBER' || name === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || (name === 'EPROTO' && /wrong version number|packet length too long/i.test(err.message))) {
    return {
      cause: `tls:${name}`,
      reason,
      config: { setting: 'mqtt.url', fix: 'this port does not speak TLS: use the broker\'s TLS port (usually 8883) in the mqtts:// URL, or mqtt:// for a plain port' },
    };
  }
  if (name && name.startsWith('ERR_SSL_') && /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE|ACCESS_DENIED)/.test(name)) {
    return {
      cause: `tls:${name}`,
      reason,
      config: { setting: 'mqtt.tls.cert', fix: 'the broker refused the TLS handshake (client certificate missing or not trusted): set mqtt.tls.cert and mqtt.tls.key to a certificate the broker accepts' },
    };
  }
  // Network trouble, a broker still starting, DNS not up yet after boot, a connect timeout, CERT_NOT_YET_VALID
  // while the clock is not yet set: waiting can fix all of them.
  return { cause: name ? `net:${name}` : `net:${err.message}`, reason };
}

function classifyConnack(code: number, ctx: ConnectContext): ConnectFailure {
  const reason = `CONNACK ${code} ${reasonName(code)}`;
  const failure = (setting: string, fix: string): ConnectFailure => ({ cause: `connack:${code}`, reason, reasonCode: code, config: { setting, fix } });
  switch (code) {
    case 1: // 3.1.1: unacceptable protocol version
    case 132: // MQTT 5: unsupported protocol version
      return ctx.protocolVersion === 5
        ? failure('mqtt.protocolVersion', 'the broker does not speak MQTT 5: set mqtt.protocolVersion: 4 (MQTT 3.1.1)')
        : failure('mqtt.protocolVersion', 'the broker refused MQTT 3.1.1: set mqtt.protocolVersion: 5');
    case 2: // 3.1.1: identifier rejected
    case 133: // client identifier not valid
      return failure('mqtt.clientId', `the broker rejected client id "${ctx.clientId}": choose another mqtt.clientId (some brokers accept at most 23 letters and digits)`);
    case 4: // 3.1.1: bad user name or password
    case 134:
      return failure('mqtt.password', `the broker refused the user name${ctx.username ? ` "${ctx.username}"` : ''} or the password: check mqtt.username and mqtt.password (or mqtt.passwordFile, HUBNLU_MQTT_PASSWORD)`);
    case 5: // 3.1.1: not authorized
    case 135:
      return failure(
        'mqtt.username',
        `the broker does not allow ${ctx.username ? `user "${ctx.username}"` : 'anonymous clients'} to connect: set mqtt.username and mqtt.password (or mqtt.passwordFile) to an account the broker accepts, or allow it in the broker's configuration`,
      );
    case 138:
      return failure('mqtt.clientId', `the broker has banned this client ("${ctx.clientId}"${ctx.username ? `, user "${ctx.username}"` : ''}): lift the ban on the broker or use other credentials`);
    case 140:
      return failure('mqtt.username', 'the broker wants another authentication method: check the broker\'s authentication settings');
    default:
      // 3 / 136 server unavailable, 137 busy, 139 shutting down, 159 connection rate exceeded, …: retry.
      return { cause: `connack:${code}`, reason, reasonCode: code };
  }
}
