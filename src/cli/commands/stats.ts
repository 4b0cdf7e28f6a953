/** `hubnlu stats`: counts, intent and sentiment distributions, latency percentiles and error rates over a window. */
import { Option, type Command } from 'commander';
import { computeStats, type Stats } from '../../store/queries.js';
import { outboxCounts } from '../../store/outbox.js';
import { labelledRowsFromLog } from '../../data/log-rows.js';
import { liveAccuracyByModel, shadowAccuracy, type ModelAccuracy, type ShadowComparison } from '../../eval/live-accuracy.js';
import { TASKS, type TaskName } from '../../model/tasks.js';
import { count, localDateTime, ms, padLeft, padRight, percent } from '../format.js';
import { positiveIntOption, sinceLimit, sinceOption, withLogDatabase, type Since } from '../log-database.js';
import { CliError, EXIT } from '../exit-codes.js';

const DEFAULT_WINDOW = '24h';

interface StatsOptions {
  byModel?: boolean;
  task: string;
  since?: Since;
  top: number;
  json?: boolean;
  db?: string;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('summarise logged inputs over a window: status counts, intents, sentiment, latency percentiles, errors')
    .option(
      '--since <when>',
      'window start: a duration (90s, 30m, 1h, 2d), an ISO date, or "all" (default: 24h)',
      sinceOption,
    )
    .option('--top <n>', 'how many intents to list by name', positiveIntOption, 10)
    .option('--json', 'print a JSON object')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .option('--by-model', 'live accuracy per model version and UTC day, from the labelled inputs (default window: all)')
    .addOption(new Option('--task <task>', 'with --by-model: which task\'s labels').choices(TASKS).default('intent'))
    .action((opts: StatsOptions, command: Command) => {
      if (opts.byModel) {
        byModel(command, opts);
        return;
      }
      const since = sinceLimit(opts.since ?? sinceOption(DEFAULT_WINDOW));
      const { stats, path, outbox } = withLogDatabase(command, opts.db, (db, path) => ({ stats: computeStats(db, { sinceMs: since, topIntents: opts.top }), path, outbox: outboxCounts(db) }));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ...toJson(stats, path), outbox }, null, 2) + '\n');
        return;
      }
      process.stdout.write(renderStats(stats, path));
      // All time, not the window: what waits for the broker now, and what it refused (hubnlu outbox list).
      process.stdout.write(`${padRight('outbox', 11)}waiting ${count(outbox.unpublished)} · refused ${count(outbox.refused)}${outbox.refused > 0 ? ' (hubnlu outbox list --refused)' : ''}\n`);
    });
}

const iso = (value: number | null): string | null => (value === null ? null : new Date(value).toISOString());

/** The stats for machines: times as UTC ISO strings. */
export function toJson(stats: Stats, database: string): Record<string, unknown> {
  const { sinceMs, firstReceivedAt, lastReceivedAt, ...rest } = stats;
  return { database, since: iso(sinceMs), firstReceivedAt: iso(firstReceivedAt), lastReceivedAt: iso(lastReceivedAt), ...rest };
}

export function renderStats(s: Stats, database: string): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`${padRight(label, 11)}${text}`);
  const window = s.sinceMs === null ? 'all time' : `since ${localDateTime(s.sinceMs)}`;
  out.push(`hubnlu stats · ${window} · ${database}`);
  if (s.total === 0) {
    row('inputs', '0 (nothing logged in this window; try --since all)');
    return out.join('\n') + '\n';
  }
  row('inputs', `${count(s.total)} (first ${localDateTime(s.firstReceivedAt!)}, last ${localDateTime(s.lastReceivedAt!)})`);
  row('status', (['done', 'rejected', 'error', 'pending'] as const).map((k) => `${k} ${count(s.byStatus[k])}`).join(' · '));
  const codes = s.errors.byCode.map((c) => `${c.code} ${count(c.count)}`).join(', ');
  row('errors', `${count(s.errors.count)} (${percent(s.errors.rate)})${codes ? `: ${codes}` : ''}`);
  const l = s.latencyMs;
  row('latency', l.count === 0 ? 'no results yet' : `p50 ${ms(l.p50)} · p90 ${ms(l.p90)} · p99 ${ms(l.p99)} · max ${ms(l.max)} · mean ${ms(l.mean)} (${count(l.count)} results)`);
  if (s.sentiment.total > 0) row('sentiment', s.sentiment.labels.map((x) => `${x.label} ${count(x.count)} (${percent(x.share)})`).join(' · '));
  for (const [i, m] of s.models.entries()) {
    row(i === 0 ? 'models' : '', `${[m.intent, m.sentiment].filter((x) => x !== null).join(' + ')}: ${count(m.count)}`);
  }
  if (s.intents.total > 0) {
    row('intents', `${count(s.intents.distinct)} distinct over ${count(s.intents.total)} results${s.intents.distinct > s.intents.top.length ? `, top ${s.intents.top.length}` : ''}`);
    const entries: Array<[string, number, number]> = s.intents.top.map((t) => [t.name, t.count, t.share]);
    if (s.intents.otherCount > 0) entries.push(['(other)', s.intents.otherCount, s.intents.otherCount / s.intents.total]);
    const nameWidth = Math.max(...entries.map(([name]) => name.length));
    const countWidth = Math.max(...entries.map(([, n]) => count(n).length));
    for (const [name, n, share] of entries) out.push(`  ${padRight(name, nameWidth)}  ${padLeft(count(n), countWidth)}  ${padLeft(percent(share), 6)}`);
  }
  return out.join('\n') + '\n';
}

/** `--by-model`: live accuracy of each model version over time, from the labelled inputs. */
function byModel(command: Command, opts: StatsOptions): void {
  const since = sinceLimit(opts.since);
  const task = opts.task as TaskName;
  const { models, shadow, path, labelled } = withLogDatabase(command, opts.db, (db, path) => {
    const { rows } = labelledRowsFromLog(db, task, { since });
    return { models: liveAccuracyByModel(rows), shadow: shadowAccuracy(rows), path, labelled: rows.length };
  });
  if (opts.json) {
    const json = models.map((m) => ({ ...m, first: new Date(m.first).toISOString(), last: new Date(m.last).toISOString() }));
    process.stdout.write(JSON.stringify({ database: path, task, since: iso(since ?? null), labelled, models: json, shadow }, null, 2) + '\n');
  } else process.stdout.write(renderByModel(models, task, path, since ?? null, labelled, shadow));
  // Nothing to measure: exit 3, as eval --from-log and report on the same window (the output above says so too).
  if (labelled === 0) {
    throw new CliError(`no labelled ${task} inputs in the log${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''} (label some with hubnlu label or hubnlu review --interactive)`, EXIT.empty);
  }
}

export function renderByModel(models: readonly ModelAccuracy[], task: TaskName, database: string, since: number | null, labelled: number, shadow: readonly ShadowComparison[] = []): string {
  const out = [`hubnlu stats --by-model · live ${task} accuracy on labelled inputs · ${since === null ? 'all time' : `since ${localDateTime(since)}`} · ${database}`];
  if (labelled === 0) {
    out.push(`no labelled ${task} inputs${since === null ? '' : ' in this window'}; label some with hubnlu label or hubnlu review --interactive`);
    return out.join('\n') + '\n';
  }
  for (const m of models) {
    out.push('');
    out.push(`${m.model}: ${percent(m.accuracy)} (${count(m.correct)}/${count(m.n)}), ${localDateTime(m.first)} → ${localDateTime(m.last)}`);
    for (const d of m.days) out.push(`  ${d.day}  ${padLeft(percent(d.accuracy), 6)}  ${padLeft(`${count(d.correct)}/${count(d.n)}`, 11)}  ${'█'.repeat(Math.round(d.accuracy * 20))}`);
  }
  for (const c of shadow) {
    out.push('');
    out.push(`shadow ${c.model}: ${percent(c.shadow.accuracy)} (${count(c.shadow.correct)}/${count(c.n)}) against live ${percent(c.live.accuracy)} (${count(c.live.correct)}/${count(c.n)}) on the same inputs`);
    out.push(`  only the shadow right ${count(c.onlyShadow)}, only live right ${count(c.onlyLive)}; McNemar p ${c.p < 0.001 ? '< 0.001' : c.p.toFixed(3)}${c.p < 0.05 ? ` (the ${c.onlyShadow > c.onlyLive ? 'shadow' : 'live model'} is better)` : ' (no significant difference)'}`);
  }
  return out.join('\n') + '\n';
}
