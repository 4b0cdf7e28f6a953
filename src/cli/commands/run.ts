/** `hubnlu run`: the long-running agent. */
import type { Command } from 'commander';
import { Agent } from '../../agent/agent.js';
import { createLogger, flushLogger } from '../../util/logger.js';
import { notifySystemd, startWatchdog } from '../../agent/systemd.js';
import { configFor, loadLiveModels } from '../context.js';
import { redactConfig } from '../../config/load.js';
import { BrokerSetupError } from '../../transport/mqtt-connection.js';
import { EmbeddedBrokerError } from '../../transport/embedded-broker-error.js';
import { CliError, EXIT } from '../exit-codes.js';
import { DatabaseFailure } from '../../store/failure.js';
import { SchemaTooNewError } from '../../store/database.js';
import { collectGarbage, shrinkHeap } from '../../util/heap.js';

/** Longest a stop may take before the process exits anyway (the unit's TimeoutStopSec is 10 s). */
const STOP_DEADLINE_MS = 8000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent: subscribe, classify, publish, log (embedded broker unless mqtt.url is set)')
    .action(async (_opts, command: Command) => {
      const { config, source } = configFor(command);
      const log = createLogger({ level: config.log.level });
      log.debug({ config: redactConfig(config), source }, 'configuration');
      const agent = new Agent(config, log, loadLiveModels);

      let stopping: Promise<void> | undefined;
      const stop = (signal: string, exitCode: number = EXIT.ok) => {
        if (stopping) return stopping;
        log.info({ signal }, 'stopping');
        notifySystemd('STOPPING=1');
        // Every state must end: a stop still running after the deadline exits anyway (what it did not store stays with the broker).
        setTimeout(() => {
          log.error({ afterMs: STOP_DEADLINE_MS }, 'stopping took too long; exiting now');
          flushLogger(log);
          process.exit(exitCode === EXIT.ok ? EXIT.failure : exitCode);
        }, STOP_DEADLINE_MS).unref();
        stopping = agent.stop().then(
          () => {
            flushLogger(log);
            process.exitCode = exitCode;
          },
          (err: Error) => {
            log.error({ err: err.message }, 'error while stopping');
            flushLogger(log);
            process.exitCode = exitCode === EXIT.ok ? EXIT.failure : exitCode;
          },
        );
        return stopping;
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));

      let info;
      try {
        info = await agent.start();
      } catch (err) {
        if (stopping) {
          // SIGTERM/SIGINT while still waiting for the broker: a normal stop, not a failure.
          await stopping;
          return;
        }
        log.fatal({ err: (err as Error).message }, 'cannot start');
        await agent.stop().catch(() => undefined);
        flushLogger(log);
        if (err instanceof DatabaseFailure || err instanceof SchemaTooNewError) throw new CliError(err.message, EXIT.needsAttention);
        // Refused credentials, an untrusted certificate, an unsupported protocol version: a restart cannot fix
        // them, so exit 78 and let the unit's RestartPreventExitStatus=78 keep systemd from looping.
        if (err instanceof BrokerSetupError) throw new CliError(`cannot connect to the broker: ${err.message}`, EXIT.needsAttention);
        // The embedded broker: a store directory it may not create or write, an address that is not this machine's, a
        // privileged port need a person too; a port or store another process holds may be let go (exit 1, retried).
        if (err instanceof EmbeddedBrokerError) throw new CliError(`cannot start the embedded broker: ${err.message}`, err.retryable ? EXIT.failure : EXIT.needsAttention);
        throw err;
      }
      // A corrupt, read-only, deleted or replaced database: stop, and exit 78 so that systemd does not restart into it.
      agent.onFatal(() => void stop('fatal', EXIT.needsAttention));
      // Start-up's garbage (model bytes, graphs built in memory, the config's parser and validator) collected now, not
      // when V8 gets round to it some seconds later, with the young generation start-up grew given back: the idle
      // footprint no longer depends on that timing (issue 10). A node without the inspector gets one compacting collection.
      const gcStart = performance.now();
      if ((await shrinkHeap()) || collectGarbage()) log.debug({ ms: Math.round((performance.now() - gcStart) * 10) / 10 }, 'start-up garbage collected');
      if (stopping) {
        // SIGTERM/SIGINT during that collection: stopping already, so not ready.
        await stopping;
        return;
      }
      const models = info.models.map((m) => `${m.task}=${m.name}@${m.version}`).join(', ');
      log.info(
        { broker: info.brokerUrl, embeddedBroker: info.embeddedBroker, database: info.databasePath, subscriptions: info.subscriptions, extensions: info.extensions, models: info.models, config: source },
        `hubnlu listening on ${info.brokerUrl}${info.embeddedBroker ? ' (embedded broker)' : ''}; models: ${models}; database: ${info.databasePath}`,
      );
      notifySystemd('READY=1');
      const watchdog = startWatchdog();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (stopping) {
            clearInterval(check);
            void stopping.then(resolve);
          }
        }, 50);
      });
      watchdog?.stop();
    });
}
