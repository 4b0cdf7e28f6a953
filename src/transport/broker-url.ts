/**
 * Broker URLs, read with the WHATWG URL parser (never a regular expression).
 *
 * The URL is parsed once, here, and the connection gets its parts (protocol,
 * host, port, path, user name, password) as options: MQTT.js would otherwise
 * read the string again with Node's legacy `url.parse`, which splits a password
 * holding `@` or `:` differently (issue 7, defect 9), and would pick `clientId`
 * out of a query string.
 */

export const PLAIN_PROTOCOLS = ['mqtt', 'tcp', 'ws'] as const;
export const TLS_PROTOCOLS = ['mqtts', 'tls', 'wss'] as const;
export type BrokerProtocol = (typeof PLAIN_PROTOCOLS)[number] | (typeof TLS_PROTOCOLS)[number];

export interface BrokerUrl {
  readonly protocol: BrokerProtocol;
  /** Without brackets for IPv6 (`::1`), as sockets want it. */
  readonly hostname: string;
  readonly port?: number;
  /** WebSocket path (`/mqtt`); absent for TCP. */
  readonly path?: string;
  /** Percent-decoded. */
  readonly username?: string;
  /** Percent-decoded. */
  readonly password?: string;
  readonly tls: boolean;
}

/** Why a URL cannot be used. The message never repeats the URL: it may hold a password. */
export class BrokerUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerUrlError';
  }
}

const ENCODE_HINT = "percent-encode '/', '?', '#' and '@' in the user name or password (%2F, %3F, %23, %40), or better, put the password in mqtt.passwordFile";

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray '%' that starts no escape: taken as written
  }
}

export function parseBrokerUrl(raw: string): BrokerUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BrokerUrlError(`not a valid URL (expected e.g. mqtt://host:1883 or mqtts://host:8883; ${ENCODE_HINT})`);
  }
  const protocol = url.protocol.slice(0, -1) as BrokerProtocol;
  const tls = (TLS_PROTOCOLS as readonly string[]).includes(protocol);
  if (!tls && !(PLAIN_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new BrokerUrlError(`unsupported scheme "${protocol}:" (use mqtt://, mqtts://, tcp://, tls://, ws:// or wss://)`);
  }
  if (url.hostname === '') throw new BrokerUrlError('no host (expected e.g. mqtt://192.168.1.10:1883)');
  // An '@' after the host means the user info was cut short by a '/', '?' or '#' inside the password: part of it
  // would be taken for the host or path (`mqtt://u:a@b/c@host`), sent nowhere sensible and shown in logs.
  if (url.pathname.includes('@') || url.search.includes('@') || url.hash.includes('@')) {
    throw new BrokerUrlError(`an '@' follows the host, so the password was cut short (${ENCODE_HINT})`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new BrokerUrlError('a query or fragment has no meaning here (remove everything from "?" or "#"; set mqtt.clientId and the other settings instead)');
  }
  const ws = protocol === 'ws' || protocol === 'wss';
  if (!ws && url.pathname !== '' && url.pathname !== '/') {
    throw new BrokerUrlError(`a path has no meaning for ${protocol}:// (remove it, or ${ENCODE_HINT})`);
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    protocol,
    hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: ws ? url.pathname || '/' : undefined,
    username: url.username === '' ? undefined : decode(url.username),
    password: url.password === '' ? undefined : decode(url.password),
    tls,
  };
}

/** `localhost`, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  const octets = host.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => o !== '' && Number.isInteger(Number(o)) && Number(o) <= 255);
}

/**
 * A URL fit for logs: `mqtt://user:[redacted]@host:1883`. Whatever cannot be parsed safely is withheld whole
 * (`mqtt://[redacted]`): a password with an unencoded '/' makes the rest of the URL unreliable.
 */
export function redactBrokerUrl(raw: string): string {
  const schemeEnd = raw.indexOf('://');
  const scheme = schemeEnd > 0 && schemeEnd <= 8 ? raw.slice(0, schemeEnd) : '';
  const withheld = `${scheme || 'url'}://[redacted]`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return withheld;
  }
  if (url.pathname.includes('@') || url.search.includes('@') || url.hash.includes('@')) return withheld;
  let out = `${url.protocol}//`;
  if (url.username !== '' || url.password !== '') out += `${url.username}${url.password !== '' ? ':[redacted]' : ''}@`;
  out += url.host + url.pathname;
  if (url.search !== '' || url.hash !== '') out += '?[redacted]';
  return out;
}
