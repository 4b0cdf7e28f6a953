/**
 * The embedded broker (aedes) used when no `mqtt.url` is configured, so a fresh
 * install works with nothing else running. Sessions live in memory: they survive
 * agent reconnects, not a restart of the process that hosts the broker.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../util/logger.js';

export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: Server;

  constructor(private readonly host: string, private readonly port: number, private readonly log: Logger) {}

  /** Starts listening; resolves with the URL clients should use. */
  async start(): Promise<string> {
    const broker = await Aedes.createBroker();
    this.broker = broker;
    broker.on('clientError', (client, err) => this.log.debug({ clientId: client?.id, err: err.message }, 'client error'));
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(`mqtt.embedded.port: ${this.host}:${this.port} is already in use (stop the other broker, set mqtt.url to use it, or choose another mqtt.embedded.port)`)
            : err,
        );
      });
      server.listen(this.port, this.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const url = `mqtt://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
    this.log.info({ url }, 'embedded broker listening');
    return url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
