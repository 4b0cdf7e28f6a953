import { redactBrokerUrl } from '../transport/broker-url.js';

/**
 * `mqtt://user:secret@host` → `mqtt://user:[redacted]@host`: URLs may carry credentials. Parsed with the WHATWG
 * URL parser, so a password holding '@', ':' or '/' never leaks its tail; an unparsable URL is withheld whole.
 */
export function redactUrl(url: string): string {
  return redactBrokerUrl(url);
}
