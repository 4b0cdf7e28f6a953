/** `hubnlu logs`: the newest inputs and what became of them, as a table or JSON. */
import { Option, type Command } from 'commander';
import type { InputStatus } from '../../store/log-store.js';
import { INPUT_STATUSES, queryLogs, type LogEntry, type LogFilter } from '../../store/queries.js';
import { CliError, EXIT } from '../exit-codes.js';
import { oneLine, padLeft, padRight, shortDateTime, width } from '../format.js';
import { visibleName } from '../../util/text-safety.js';
import { positiveIntOption, sinceLimit, sinceOption, withLogDatabase, type Since } from '../log-database.js';

interface LogsOptions {
  since?: Since;
  site?: string;
  intent?: string;
  status?: InputStatus;
  limit: number;
  json?: boolean;
  db?: string;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('show logged inputs, newest first (exit 3 when nothing matches)')
    .option('--since <when>', 'only inputs received since: a duration (90s, 30m, 1h, 2d), an ISO date, or all (the default)', sinceOption)
    .option('--site <siteId>', 'only this site')
    .option('--intent <name>', 'only inputs classified as this intent')
    .addOption(new Option('--status <status>', 'only inputs with this status').choices(INPUT_STATUSES))
    .option('--limit <n>', 'at most this many rows', positiveIntOption, 20)
    .option('--json', 'print a JSON array of rows')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .action((opts: LogsOptions, command: Command) => {
      const filter: LogFilter = { sinceMs: sinceLimit(opts.since), site: opts.site, intent: opts.intent, status: opts.status, limit: opts.limit };
      const entries = withLogDatabase(command, opts.db, (db) => queryLogs(db, filter));
      if (opts.json) process.stdout.write(JSON.stringify(entries.map(toJson), null, 2) + '\n');
      if (entries.length === 0) throw new CliError(`no inputs match${describeFilter(filter)}`, EXIT.empty);
      if (opts.json) return;
      const columns = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 100;
      process.stdout.write(renderTable(entries, columns));
      if (entries.length === filter.limit) process.stderr.write(`(the newest ${filter.limit}; --limit shows more)\n`);
    });
}

function describeFilter(f: LogFilter): string {
  const parts: string[] = [];
  if (f.sinceMs !== undefined) parts.push(`since ${new Date(f.sinceMs).toISOString()}`);
  if (f.site !== undefined) parts.push(`site ${JSON.stringify(f.site)}`);
  if (f.intent !== undefined) parts.push(`intent ${JSON.stringify(f.intent)}`);
  if (f.status !== undefined) parts.push(`status ${f.status}`);
  return parts.length ? ` (${parts.join(', ')})` : ' (the database holds no inputs yet)';
}

/** A row for machines: times as UTC ISO strings, JSON columns parsed. */
export function toJson(e: LogEntry): Record<string, unknown> {
  return {
    ...e,
    receivedAt: new Date(e.receivedAt).toISOString(),
    completedAt: e.completedAt === null ? null : new Date(e.completedAt).toISOString(),
    gold: e.gold === null ? null : { ...e.gold, at: e.gold.at === null ? null : new Date(e.gold.at).toISOString() },
  };
}

function outcome(e: LogEntry): string {
  if (e.error) return e.error.code;
  if (e.intent) return e.intent.confidence === null ? e.intent.name : `${e.intent.name} ${e.intent.confidence.toFixed(2)}`;
  return '-';
}

function latency(e: LogEntry): string {
  if (e.latencyMs === null) return '-';
  return e.latencyMs < 10 ? `${e.latencyMs.toFixed(1)}ms` : `${Math.round(e.latencyMs)}ms`;
}

/**
 * An aligned table: fixed columns sized to their content (capped), the text
 * takes what is left of the terminal width (at least 16 characters).
 */
export function renderTable(entries: readonly LogEntry[], columns: number): string {
  const cells = entries.map((e) => [
    shortDateTime(e.receivedAt),
    oneLine(visibleName(e.siteId), 16),
    e.status,
    oneLine(outcome(e), 32),
    // pos / neu / neg: three letters leave the text ten more columns in a 100-column terminal.
    e.sentiment ? e.sentiment.label.slice(0, 3) : '-',
    latency(e),
  ]);
  const header = ['TIME', 'SITE', 'STATUS', 'INTENT / ERROR', 'SENT', 'LAT'];
  const widths = header.map((h, i) => Math.max(width(h), ...cells.map((row) => width(row[i]))));
  const rightAligned = new Set([5]);
  const fixed = widths.reduce((s, w) => s + w + 2, 0);
  const textWidth = Math.max(16, columns - fixed);
  const line = (row: readonly string[], text: string): string =>
    row.map((c, i) => (rightAligned.has(i) ? padLeft(c, widths[i]) : padRight(c, widths[i]))).join('  ') + '  ' + text;
  const out = [line(header, 'TEXT').trimEnd()];
  entries.forEach((e, i) => out.push(line(cells[i], oneLine(e.text ?? e.payloadExcerpt ?? '', textWidth)).trimEnd()));
  return out.join('\n') + '\n';
}
