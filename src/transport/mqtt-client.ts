/**
 * `mqtt.connect` for options already parsed (src/transport/broker-url.ts), loading only the transport the URL names.
 *
 * MQTT.js's `connect` loads all of its transports on the first connection, whatever the URL: WebSocket (`ws`) and,
 * through its TCP and TLS transports, SOCKS (`socks`, `ip-address`): 31 modules and about 3.5 MB of RSS an agent on
 * `mqtt://` holds for nothing (issue 10, idle RSS). Here `mqtt://` and `tcp://` get a plain `net` socket, what
 * MQTT.js's TCP transport opens when no SOCKS proxy is set; a SOCKS proxy (`MQTTJS_SOCKS_PROXY`, which MQTT.js
 * honours), TLS and WebSocket URLs get MQTT.js's own transport, loaded then. The rest is what `mqtt.connect` does
 * with an options object: a path only for WebSocket, the SOCKS proxy from the environment, a no-op `error` listener.
 */
// First: MQTT.js must find Node's timers in place of worker-timers when it loads (src/transport/mqtt-timers.ts).
import './mqtt-timers.js';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';

type StreamBuilder = ConstructorParameters<typeof MqttClient>[0];
type Transport = (client: MqttClient, opts: IClientOptions) => ReturnType<StreamBuilder>;

const require = createRequire(import.meta.url);

/** The transports this module may load, by protocol, for tests. */
export const TRANSPORT_MODULES = { tcp: 'mqtt/lib/connect/tcp', tls: 'mqtt/lib/connect/tls', ws: 'mqtt/lib/connect/ws' } as const;

/** A plain TCP connection: MQTT.js's TCP transport without a SOCKS proxy (build/lib/connect/tcp.js). */
const plainTcp: Transport = (_client, opts) => {
  opts.port = opts.port || 1883;
  opts.hostname = opts.hostname || opts.host || 'localhost';
  return createConnection({ port: opts.port, host: opts.hostname });
};

function transportFor(protocol: string, socksProxy: string | undefined): Transport {
  switch (protocol) {
    case 'mqtt':
    case 'tcp':
      return socksProxy ? (require(TRANSPORT_MODULES.tcp) as { default: Transport }).default : plainTcp;
    case 'mqtts':
    case 'tls':
    case 'ssl':
      return (require(TRANSPORT_MODULES.tls) as { default: Transport }).default;
    case 'ws':
    case 'wss':
      return (require(TRANSPORT_MODULES.ws) as { streamBuilder: Transport }).streamBuilder;
    default:
      throw new Error(`unsupported MQTT protocol "${protocol}"`);
  }
}

/** Like `mqtt.connect(options)` for an options object with its `protocol` set. */
export function connectMqtt(options: IClientOptions): MqttClient {
  const opts: IClientOptions = { ...options };
  const protocol = opts.protocol;
  if (!protocol) throw new Error('Missing protocol');
  if (!protocol.startsWith('ws')) delete opts.path;
  if (opts.socksProxy === undefined) opts.socksProxy = process.env.MQTTJS_SOCKS_PROXY;
  if (opts.clean === false && !opts.clientId) throw new Error('Missing clientId for unclean clients');
  opts.defaultProtocol = protocol;
  const transport = transportFor(protocol, opts.socksProxy);
  const client = new MqttClient((c) => transport(c, opts), opts);
  // As mqtt.connect: an `error` event with no other listener must not throw (the supervisor listens and decides).
  client.on('error', () => undefined);
  return client;
}
