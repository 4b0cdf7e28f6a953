/**
 * Checks on the broker channel the schema cannot express (issue 7, defect 9): the URL must parse, TLS settings
 * need a TLS URL, and a password does not cross the network in clear unless the user says so. Messages name the
 * setting and the fix, and never repeat the URL or the password.
 */
import { BrokerUrlError, isLoopbackHost, parseBrokerUrl, type BrokerUrl } from '../transport/broker-url.js';
import type { Config } from './schema.js';

export function checkBrokerChannel(config: Config): string[] {
  const { mqtt } = config;
  const problems: string[] = [];
  const tlsSettings = (['ca', 'cert', 'key'] as const).filter((k) => mqtt.tls[k] !== undefined).map((k) => `mqtt.tls.${k}`);
  if (mqtt.tls.rejectUnauthorized === false) tlsSettings.push('mqtt.tls.rejectUnauthorized');

  if (mqtt.reconnectMaxMs < mqtt.reconnectPeriodMs) {
    problems.push(`mqtt.reconnectMaxMs: ${mqtt.reconnectMaxMs} is below mqtt.reconnectPeriodMs (${mqtt.reconnectPeriodMs}) (raise it, e.g. to 60000)`);
  }
  if (mqtt.url === undefined) {
    for (const setting of tlsSettings) {
      problems.push(`${setting}: TLS applies to an external broker only, and mqtt.url is not set (set mqtt.url to an mqtts:// URL, or remove ${setting})`);
    }
    return problems;
  }
  let url: BrokerUrl;
  try {
    url = parseBrokerUrl(mqtt.url);
  } catch (err) {
    if (err instanceof BrokerUrlError) return [...problems, `mqtt.url: ${err.message}`];
    throw err;
  }
  if (!url.tls) {
    const secure = url.protocol === 'ws' ? 'wss://' : 'mqtts://';
    for (const setting of tlsSettings) {
      problems.push(`${setting}: set, but mqtt.url is plain ${url.protocol}:// and would ignore it (use ${secure}, usually port ${url.protocol === 'ws' ? '443' : '8883'}, or remove ${setting})`);
    }
  }
  const passwordFrom = mqtt.passwordFile !== undefined ? 'mqtt.passwordFile' : mqtt.password !== undefined ? 'mqtt.password' : url.password !== undefined ? 'mqtt.url' : undefined;
  if (passwordFrom && !url.tls && !isLoopbackHost(url.hostname) && !mqtt.allowPlaintextPassword) {
    problems.push(
      `${passwordFrom}: the password would cross the network in clear text (plain ${url.protocol}:// to a broker on another machine) ` +
        `(use mqtts:// with mqtt.tls.ca, or set mqtt.allowPlaintextPassword: true to accept that on a network you trust)`,
    );
  }
  return problems;
}
