/**
 * The embedded broker (aedes) used when no `mqtt.url` is configured, so a fresh
 * install works with nothing else running. It lives in the agent's process:
 * while hubnlu is stopped there is no broker, so publishers cannot connect and
 * what they send then is lost (README, Delivery).
 *
 * Without `persistence` its sessions, queued QoS 1 messages and retained
 * messages live in memory: they survive the agent's reconnects, not a restart.
 * With `persistence: <dir>` they are kept in a LevelDB database in that
 * directory (aedes-persistence-level) and survive a restart: inputs queued for
 * hubnlu's session when it stopped, results queued for persistent subscribers,
 * retained messages.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import aedesPersistenceLevel from 'aedes-persistence-level';
import { Level } from 'level';
import type { Logger } from '../util/logger.js';
import { EmbeddedBrokerError } from './embedded-broker-error.js';

export { EmbeddedBrokerError };

export interface EmbeddedBrokerOptions {
  /** Directory for the broker's LevelDB store; absent: in memory. */
  readonly persistence?: string;
}

export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: Server;
  private persistence?: ReturnType<typeof aedesPersistenceLevel>;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly log: Logger,
    private readonly options: EmbeddedBrokerOptions = {},
  ) {}

  /** Starts listening; resolves with the URL clients should use. */
  async start(): Promise<string> {
    const dir = this.options.persistence;
    if (dir) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new EmbeddedBrokerError(
          'mqtt.embedded.persistence',
          `cannot create the broker store directory ${dir} (${(err as Error).message}); choose a directory hubnlu may write, or make that one writable by the user hubnlu runs as`,
          false,
        );
      }
      const db = new Level(dir);
      try {
        await db.open();
      } catch (err) {
        const cause = (err as { cause?: Error & { code?: string } }).cause;
        const reason = cause?.message ?? (err as Error).message;
        // LevelDB's lock held by another process (LEVEL_LOCKED) may be let go; anything else (a directory hubnlu may not
        // write, a damaged store: LEVEL_IO_ERROR, LEVEL_CORRUPTION) stays as it is until someone acts.
        if (cause?.code === 'LEVEL_LOCKED') {
          throw new EmbeddedBrokerError('mqtt.embedded.persistence', `cannot open the broker store in ${dir} (${reason}); is another hubnlu using it? (choose another directory, or stop the other process)`, true);
        }
        throw new EmbeddedBrokerError(
          'mqtt.embedded.persistence',
          `cannot open the broker store in ${dir} (${reason}); make the directory and its files writable by the user hubnlu runs as, or choose another directory (a damaged store can be moved aside: the broker starts an empty one, losing the queued and retained messages it held)`,
          false,
        );
      }
      this.persistence = aedesPersistenceLevel(db);
    }
    const broker = await Aedes.createBroker(this.persistence ? { persistence: this.persistence } : {});
    this.broker = broker;
    broker.on('clientError', (client, err) => this.log.debug({ clientId: client?.id, err: err.message }, 'client error'));
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${this.host}:${this.port}`;
        reject(
          // In use: the process that holds it may let go (a broker being stopped, an agent started by hand), so this one is retried.
          err.code === 'EADDRINUSE'
            ? new EmbeddedBrokerError('mqtt.embedded.port', `${where} is already in use (stop the other broker, set mqtt.url to use it, or choose another mqtt.embedded.port)`, true)
            : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
              ? // A host name with no DNS answer yet (EAI_AGAIN, early in boot) may get one: retried; one that does not exist, or an address that is not this machine's, will not.
                new EmbeddedBrokerError('mqtt.embedded.host', `cannot listen on ${where} (${err.message}); use an address of this machine, such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`, err.code === 'EAI_AGAIN')
              : err.code === 'EACCES'
                ? new EmbeddedBrokerError('mqtt.embedded.port', `cannot listen on ${where} (${err.message}); ports below 1024 need privileges hubnlu should not have: choose mqtt.embedded.port 1024 or above, e.g. 1883`, false)
                : err,
        );
      });
      server.listen(this.port, this.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const url = `mqtt://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
    this.log.info({ url, persistence: dir ?? 'memory' }, 'embedded broker listening');
    return url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    // aedes does not close its persistence; the LevelDB lock must go for the next start.
    if (this.persistence) await this.persistence.destroy();
    this.persistence = undefined;
  }
}
