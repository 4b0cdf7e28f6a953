/** A real pino logger whose JSON lines are kept in memory, for tests that read what a component logged. */
import { pino } from 'pino';
import type { Logger } from '../../src/util/logger.js';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export function captureLogger(level = 'debug'): { log: Logger; lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const log = pino(
    { level, formatters: { level: (label) => ({ level: label }) } },
    { write: (chunk: string) => void lines.push(JSON.parse(chunk) as LogLine) },
  );
  return { log, lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}
