/**
 * Structured logging: JSON lines (journald-friendly), one child logger per
 * module, secrets redacted by path. Writes are asynchronous so the hot path never
 * waits on stdout; `flushLogger()` runs on shutdown.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = ['password', '*.password', 'mqtt.password', 'config.mqtt.password', 'headers.authorization', '*.passwordFile'];

export interface LoggerOptions {
  readonly level?: LevelWithSilent | string;
  /** File descriptor: 1 (stdout, the agent) or 2 (stderr, CLI commands whose stdout is their answer). */
  readonly fd?: 1 | 2;
  readonly sync?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = pino.destination({ dest: opts.fd ?? 1, sync: opts.sync ?? false, minLength: 0 });
  return pino(
    {
      name: 'hubnlu',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export function flushLogger(logger: Logger): void {
  try {
    logger.flush();
  } catch {
    // stdout already closed: nothing left to flush
  }
}
