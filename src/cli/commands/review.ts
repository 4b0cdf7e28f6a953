/**
 * `hubnlu review [--limit N] [--since 30d] [--json] [--interactive]`: the
 * unlabelled inputs most worth labelling first, with why (src/store/review.ts);
 * `--interactive` labels them one by one in the terminal (review-session.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { REVIEW_DEFAULTS, reviewQueue, type ReviewItem, type ReviewOptions } from '../../store/review.js';
import { loggedGoldIntents } from '../../store/labels.js';
import { configFor } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { oneLine, padRight, shortDateTime } from '../format.js';
import { visibleName } from '../../util/text-safety.js';
import { positiveIntOption, sinceLimit, sinceOption, withLogDatabase, withWritableLogDatabase, type Since } from '../log-database.js';
import { vocabularyFromConfig } from '../../learn/label-vocabulary.js';
import { runReviewSession } from '../review-session.js';
import { defaultLabeller } from './label.js';

interface Opts {
  limit: number;
  since?: Since;
  json?: boolean;
  interactive?: boolean;
  by?: string;
  lowConfidence: number;
  margin: number;
  db?: string;
}

const fraction = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${name}: expected a number between 0 and 1 (got ${JSON.stringify(value)})`);
  return n;
};

export function registerReview(program: Command): void {
  program
    .command('review')
    .description('list the unlabelled inputs most worth labelling first, with the reasons; --interactive labels them in the terminal')
    .option('--limit <n>', 'at most this many inputs', positiveIntOption, 20)
    .option('--since <when>', 'only inputs received since: a duration (30d, 12h), an ISO date, or all (the default)', sinceOption)
    .option('--low-confidence <p>', 'a top confidence below this is doubtful', fraction('--low-confidence'), REVIEW_DEFAULTS.lowConfidence)
    .option('--margin <p>', 'top-1 minus top-2 below this is a close call', fraction('--margin'), REVIEW_DEFAULTS.margin)
    .option('--json', 'print a JSON array')
    .option('--interactive', 'label them one by one: a = accept, 1-3 = alternative, t = type, s = skip, u = back to the last labelled, q = quit')
    .option('--by <name>', 'who labels, with --interactive (default: cli:<user>)')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .action(async (opts: Opts, command: Command) => {
      const options: ReviewOptions = { limit: opts.limit, since: sinceLimit(opts.since), lowConfidence: opts.lowConfidence, margin: opts.margin };
      if (opts.interactive) {
        if (opts.json) throw new CliError('--json and --interactive exclude each other', EXIT.usage);
        const config = configFor(command).config;
        const by = opts.by ?? defaultLabeller();
        await withWritableLogDatabase(command, opts.db, async (db, path) => {
          const items = reviewQueue(db, options);
          if (items.length === 0) {
            process.stdout.write('nothing to review: no unlabelled input looks doubtful\n');
            return;
          }
          await runReviewSession(db, items, vocabularyFromConfig(config, loggedGoldIntents(db)), by, { input: process.stdin, output: process.stdout }, path);
        });
        return;
      }
      const items = withLogDatabase(command, opts.db, (db) => reviewQueue(db, options));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(items.map(toJson), null, 2)}\n`);
        return;
      }
      if (items.length === 0) {
        process.stdout.write('nothing to review: no unlabelled input looks doubtful\n');
        return;
      }
      process.stdout.write(renderQueue(items, process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 100));
    });
}

function toJson(i: ReviewItem): Record<string, unknown> {
  return { ...i, receivedAt: new Date(i.receivedAt).toISOString() };
}

export function renderQueue(items: readonly ReviewItem[], columns: number): string {
  const out: string[] = [];
  for (const i of items) {
    const live = `${i.intent ?? '-'}${i.confidence !== null ? ` ${i.confidence.toFixed(2)}` : ''}`;
    const head = `#${i.seq}  ${shortDateTime(i.receivedAt)}  ${padRight(oneLine(visibleName(i.siteId), 12), 12)}  ${padRight(oneLine(live, 32), 32)}  `;
    out.push(head + oneLine(JSON.stringify(i.text), Math.max(16, columns - head.length)));
    out.push(`    id ${i.id} · score ${i.score.toFixed(1)} · ${i.reasons.map((r) => r.detail).join('; ')}`);
  }
  out.push('');
  out.push("label one: hubnlu label <id|'#seq'> --intent NAME · or all in turn: hubnlu review --interactive");
  return out.join('\n') + '\n';
}
