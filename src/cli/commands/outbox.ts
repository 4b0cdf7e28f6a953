/**
 * `hubnlu outbox`: the messages waiting for the broker, and those it refused.
 *
 *   hubnlu outbox list [--refused | --unpublished] [--limit N] [--json]   counts, then the refused (or waiting) messages
 *   hubnlu outbox retry <seq…> | --all [--json]                          re-queue refused messages
 *
 * A message the broker refused (an MQTT 5 PUBACK reason code such as 0x87 Not authorized: its ACL denies the topic)
 * is set aside by the agent and not resent (store/outbox.ts, migration 6). Once the broker allows the topic,
 * `retry` puts it back in the queue; a running agent sends it within about a second, a stopped one at its next start.
 */
import type { Command } from 'commander';
import { liveLockOwner } from '../../store/lock.js';
import { listRefused, listUnpublished, outboxCounts, requeueRefused, type RefusedMessage } from '../../store/outbox.js';
import { reasonText } from '../../transport/publish-refusal.js';
import { CliError, EXIT } from '../exit-codes.js';
import { count, oneLine, shortDateTime } from '../format.js';
import { visibleName } from '../../util/text-safety.js';
import { positiveIntOption, withLogDatabase, withWritableLogDatabase } from '../log-database.js';

interface ListOptions {
  refused?: boolean;
  unpublished?: boolean;
  limit: number;
  json?: boolean;
  db?: string;
}

interface RetryOptions {
  all?: boolean;
  json?: boolean;
  db?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** `12` or `#12`: an outbox seq as `list` prints it. */
function parseSeq(value: string): number {
  const text = value.trim().replace(/^#/, '');
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`outbox retry: "${value}" is not an outbox seq (a whole number, as \`hubnlu outbox list --refused\` shows it)`, EXIT.usage);
  }
  return n;
}

export function registerOutbox(program: Command): void {
  const outbox = program.command('outbox').description('results waiting for the broker, and those it refused: list them, re-queue refused ones');
  outbox
    .command('list')
    .description('outbox counts, then the messages the broker refused (--unpublished: those waiting; exit 3 when --refused/--unpublished finds none)')
    .option('--refused', 'only the refused messages (exit 3 when there are none)')
    .option('--unpublished', 'the messages waiting for the broker instead (the backlog)')
    .option('--limit <n>', 'at most this many messages', positiveIntOption, 50)
    .option('--json', 'print a JSON object')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .action((opts: ListOptions, command: Command) => {
      if (opts.refused && opts.unpublished) throw new CliError('outbox list: --refused and --unpublished exclude each other', EXIT.usage);
      const { counts, refused, waiting, path } = withLogDatabase(command, opts.db, (db, path) => ({
        counts: outboxCounts(db),
        refused: opts.unpublished ? [] : listRefused(db, { limit: opts.limit }),
        waiting: opts.unpublished ? listUnpublished(db, { limit: opts.limit }) : [],
        path,
      }));
      if (opts.json) {
        const body: Record<string, unknown> = { database: path, counts };
        if (opts.unpublished) body.unpublished = waiting.map((w) => ({ ...w, createdAt: iso(w.createdAt) }));
        else body.refused = refused.map(refusedJson);
        process.stdout.write(JSON.stringify(body, null, 2) + '\n');
      } else {
        process.stdout.write(renderList(path, counts, refused, waiting, opts));
      }
      if (opts.refused && refused.length === 0) throw new CliError('no refused messages', EXIT.empty);
      if (opts.unpublished && waiting.length === 0) throw new CliError('no messages waiting for the broker', EXIT.empty);
    });
  outbox
    .command('retry')
    .description('put refused messages back in the queue (after the broker allows their topic); a running agent sends them within a second')
    .argument('[seq...]', 'the outbox seqs `outbox list --refused` shows')
    .option('--all', 'every refused message')
    .option('--json', 'print a JSON object')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .action((seqArgs: string[], opts: RetryOptions, command: Command) => {
      if (opts.all && seqArgs.length > 0) throw new CliError('outbox retry: name seqs or give --all, not both', EXIT.usage);
      if (!opts.all && seqArgs.length === 0) throw new CliError('outbox retry: name the refused messages (their seqs, from `hubnlu outbox list --refused`) or give --all', EXIT.usage);
      const seqs = opts.all ? ('all' as const) : seqArgs.map(parseSeq);
      const { outcome, path } = withWritableLogDatabase(command, opts.db, (db, path) => ({ outcome: requeueRefused(db, seqs), path }));
      const agent = liveLockOwner(path);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ database: path, requeued: outcome.requeued, notRefused: outcome.notRefused, agentRunning: agent !== undefined }, null, 2) + '\n');
      } else {
        for (const r of outcome.requeued) process.stdout.write(`re-queued #${r.seq} as #${r.newSeq}  ${r.topic}\n`);
        if (outcome.requeued.length > 0) {
          process.stdout.write(
            agent
              ? `${count(outcome.requeued.length)} re-queued; the running agent (pid ${agent.pid}) sends them within about a second. If the broker still refuses one, it is set aside again.\n`
              : `${count(outcome.requeued.length)} re-queued; no agent is running on ${path}: they are sent when it next starts.\n`,
          );
        }
      }
      if (outcome.notRefused.length > 0) {
        process.stderr.write(`not a refused message (unknown, already sent, or waiting to be sent): ${outcome.notRefused.map((s) => `#${s}`).join(', ')}\n`);
      }
      if (outcome.requeued.length === 0) throw new CliError(opts.all ? 'no refused messages' : 'nothing re-queued', EXIT.empty);
    });
}

function refusedJson(r: RefusedMessage): Record<string, unknown> {
  return {
    seq: r.seq,
    topic: r.topic,
    refusedAt: iso(r.refusedAt),
    reasonCode: r.reasonCode,
    reason: r.reason,
    attempts: r.attempts,
    createdAt: iso(r.createdAt),
    inputSeq: r.inputSeq,
    id: r.inputId,
    siteId: r.siteId,
    payload: r.payload,
  };
}

export function renderList(
  path: string,
  counts: ReturnType<typeof outboxCounts>,
  refused: readonly RefusedMessage[],
  waiting: ReturnType<typeof listUnpublished>,
  opts: Pick<ListOptions, 'unpublished' | 'limit'>,
): string {
  const out = [`hubnlu outbox · ${path}`, `waiting ${count(counts.unpublished)} · refused ${count(counts.refused)} · published ${count(counts.published)}`];
  if (opts.unpublished) {
    for (const w of waiting) out.push(`  #${w.seq}  ${shortDateTime(w.createdAt)}  ${w.topic}${w.attempts > 0 ? `  (${w.attempts} failed sends)` : ''}`);
    if (counts.unpublished > waiting.length) out.push(`  … ${count(counts.unpublished - waiting.length)} more (--limit)`);
    return out.join('\n') + '\n';
  }
  if (refused.length === 0) return out.join('\n') + '\n';
  out.push('refused by the broker (not resent; fix the broker, then `hubnlu outbox retry <seq>` or `--all`):');
  for (const r of refused) {
    out.push(`  #${r.seq}  ${shortDateTime(r.refusedAt)}  ${reasonText(r.reasonCode)}  ${r.topic}  id ${oneLine(r.inputId ?? '-', 40)}${r.siteId ? `  site ${visibleName(r.siteId)}` : ''}`);
  }
  if (counts.refused > refused.length) out.push(`  … ${count(counts.refused - refused.length)} more (--limit)`);
  return out.join('\n') + '\n';
}
