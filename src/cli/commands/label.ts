/**
 * `hubnlu label`: gold labels for logged inputs, written to the live database
 * through `LogStore.label` (the writer the bridge's `label` request uses), so
 * every change is versioned: who, when, and the label it replaced
 * (`label_history`).
 *
 *   hubnlu label <id|#seq> --intent X [--slot type=value …] [--sentiment S] [--by NAME]
 *   hubnlu label <id|#seq> --clear-intent | --clear-slots | --clear-sentiment
 *   hubnlu label --import labels.jsonl     all rows or none, with a summary
 *   hubnlu label --history <id|#seq>       every label the input has had
 *
 * Works while the agent runs: each label (or a whole import) is one short
 * IMMEDIATE write transaction next to the agent's own (see log-database.ts).
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { LogStore, type GoldLabel } from '../../store/log-store.js';
import { describeRef, findLabelTarget, findLabelTargets, keyOf, labelHistory, loggedGoldIntents, parseInputRef, type FindOutcome, type LabelTarget, type LabelVersion } from '../../store/labels.js';
import { checkLabel, LabelError, parseSlotArg, readLabelFile, type CheckedLabel, type LabelInput, type LabelVocabulary, type SlotInput } from '../../data/label-check.js';
import { InputFileError } from '../../data/input-file.js';
import { configFor } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { localDateTime, printable } from '../format.js';
import { withLogDatabase, withWritableLogDatabase } from '../log-database.js';
import { vocabularyFromConfig } from '../../learn/label-vocabulary.js';

interface LabelOptions {
  intent?: string;
  slot: string[];
  sentiment?: string;
  by?: string;
  clearIntent?: boolean;
  clearSlots?: boolean;
  clearSentiment?: boolean;
  import?: string;
  history?: boolean;
  json?: boolean;
  db?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `hubnlu label #12 --intent x` in a shell runs `hubnlu label`: the rest is a comment. Said wherever the input is missing. */
const QUOTE_SEQ = "its id or #<seq>; quote it in a shell ('#3'): an unquoted # starts a comment";

/** Who labels when `--by` is absent: the user running the command. */
export function defaultLabeller(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export function registerLabel(program: Command): void {
  program
    .command('label')
    .description('label a logged input (gold intent, slots, sentiment; versioned), import labels from a JSONL file, or show an input\'s label history')
    .argument('[input]', "the input: its id (hubnlu logs --json shows it) or '#<seq>' (quoted: # starts a shell comment)")
    .option('--intent <name>', 'the right intent (a new name is allowed, with a warning)')
    .option('--slot <type=value>', 'a gold slot; the value must appear in the text (repeat for several)', collect, [])
    .option('--sentiment <label>', 'negative, neutral or positive')
    .option('--clear-intent', 'remove the gold intent')
    .option('--clear-slots', 'remove the gold slots')
    .option('--clear-sentiment', 'remove the gold sentiment')
    .option('--by <name>', 'who labels (default: cli:<user>)')
    .option('--import <file>', 'JSONL: {"id", "intent"?, "slots"?: [{"type", "value"}], "sentiment"?} per line; all rows or none')
    .option('--history', 'show every label the input has had instead of labelling it')
    .option('--json', 'print JSON')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .action((input: string | undefined, opts: LabelOptions, command: Command) => {
      const by = opts.by ?? defaultLabeller();
      if (by.length === 0 || by.length > 64) throw new CliError('--by: give a short name (1-64 characters)', EXIT.usage);
      if (opts.history) {
        if (!input) throw new CliError(`--history: name the input (${QUOTE_SEQ})`, EXIT.usage);
        showHistory(command, opts, input);
        return;
      }
      if (opts.import !== undefined) {
        if (input !== undefined || opts.intent !== undefined || opts.slot.length || opts.sentiment !== undefined || opts.clearIntent || opts.clearSlots || opts.clearSentiment) {
          throw new CliError('--import takes the labels from the file; give no input or label options with it', EXIT.usage);
        }
        importLabels(command, opts, opts.import, by);
        return;
      }
      if (!input) throw new CliError(`name the input to label (${QUOTE_SEQ}), or use --import FILE`, EXIT.usage);
      labelOne(command, opts, input, by);
    });
}

function labelInputFromOptions(opts: LabelOptions): LabelInput {
  const conflict = (a: boolean, b: boolean, what: string) => {
    if (a && b) throw new CliError(`give --${what} or --clear-${what}, not both`, EXIT.usage);
  };
  conflict(opts.intent !== undefined, !!opts.clearIntent, 'intent');
  conflict(opts.slot.length > 0, !!opts.clearSlots, 'slot');
  conflict(opts.sentiment !== undefined, !!opts.clearSentiment, 'sentiment');
  let slots: SlotInput[] | null | undefined;
  try {
    slots = opts.clearSlots ? null : opts.slot.length ? opts.slot.map(parseSlotArg) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  return {
    ...(opts.clearIntent ? { intent: null } : opts.intent !== undefined ? { intent: opts.intent } : {}),
    ...(slots !== undefined ? { slots } : {}),
    ...(opts.clearSentiment ? { sentiment: null } : opts.sentiment !== undefined ? { sentiment: opts.sentiment } : {}),
  };
}

function goldOf(checked: CheckedLabel, by: string, at: number): GoldLabel {
  return {
    ...(checked.intent !== undefined ? { intent: checked.intent } : {}),
    ...(checked.slots !== undefined ? { slots: checked.slots } : {}),
    ...(checked.sentiment !== undefined ? { sentiment: checked.sentiment } : {}),
    by,
    at,
  };
}

/** Finds, checks and stores one label inside the caller's transaction; throws LabelError for what cannot be stored. */
function applyLabel(store: LogStore, vocab: LabelVocabulary, ref: string, found: FindOutcome, input: LabelInput, by: string, at: number): { target: LabelTarget; checked: CheckedLabel; previous: LabelVersion | null } {
  if (!found.ok) throw new LabelError(found.message);
  const checked = checkLabel(found.target.text, input, vocab);
  const r = store.label({ seq: found.target.seq }, goldOf(checked, by, at));
  if (!r.ok) throw new LabelError(`${describeRef(parseInputRef(ref))}: ${r.code}`);
  const p = r.previous;
  const hadLabel = p.at !== null || p.intent !== null || p.slots !== null || p.sentiment !== null;
  return { target: found.target, checked, previous: hadLabel ? { intent: p.intent, slots: p.slots, sentiment: p.sentiment, by: p.by, at: p.at } : null };
}

function labelOne(command: Command, opts: LabelOptions, ref: string, by: string): void {
  const input = labelInputFromOptions(opts);
  if (input.intent === undefined && input.slots === undefined && input.sentiment === undefined) {
    throw new CliError('nothing to label: give --intent, --slot or --sentiment (or a --clear-… option)', EXIT.usage);
  }
  const config = configFor(command).config;
  const outcome = withWritableLogDatabase(command, opts.db, (db, path) => {
    const vocab = vocabularyFromConfig(config, loggedGoldIntents(db));
    const store = new LogStore(db, { path });
    try {
      // IMMEDIATE: take the write lock (waiting for the agent's commit if need be) before reading, so the read-then-write never fails on a stale snapshot.
      return db.transaction(() => applyLabel(store, vocab, ref, findLabelTarget(db, parseInputRef(ref)), input, by, Date.now())).immediate();
    } catch (err) {
      if (err instanceof LabelError) throw new CliError(err.message, /no logged input|has not been answered/.test(err.message) ? EXIT.empty : EXIT.usage);
      throw err;
    }
  });
  for (const w of outcome.checked.warnings) process.stderr.write(`hubnlu label: warning: ${w}\n`);
  const t = outcome.target;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ seq: t.seq, id: t.id, text: t.text, label: withoutWarnings(outcome.checked), by, previous: outcome.previous, warnings: outcome.checked.warnings })}\n`);
    return;
  }
  process.stdout.write(`${printable(`labelled #${t.seq} (id ${t.id}) ${JSON.stringify(t.text ?? '')}: ${describeLabel(outcome.checked)}`)}\n`);
  if (outcome.previous) process.stdout.write(`${printable(`  replaces ${describeVersion(outcome.previous)}${who(outcome.previous)}`)}\n`);
}

function withoutWarnings(c: CheckedLabel): Omit<CheckedLabel, 'warnings'> {
  const { warnings: _w, ...rest } = c;
  return rest;
}

function describeSlots(slots: unknown): string {
  if (!Array.isArray(slots)) return 'none';
  if (slots.length === 0) return 'none';
  return slots.map((s: { type?: unknown; value?: unknown }) => `${String(s.type)}=${String(s.value)}`).join(', ');
}

function describeLabel(l: { intent?: string | null; slots?: unknown; sentiment?: string | null }): string {
  const parts: string[] = [];
  if (l.intent !== undefined) parts.push(`intent ${l.intent ?? '(cleared)'}`);
  if (l.slots !== undefined) parts.push(`slots ${l.slots === null ? '(cleared)' : describeSlots(l.slots)}`);
  if (l.sentiment !== undefined) parts.push(`sentiment ${l.sentiment ?? '(cleared)'}`);
  return parts.join(', ');
}

/** A stored label: every field, `-` where it has none. */
function describeVersion(v: LabelVersion): string {
  return `intent ${v.intent ?? '-'}, slots ${describeSlots(v.slots)}, sentiment ${v.sentiment ?? '-'}`;
}

const who = (v: LabelVersion): string => `${v.by ? ` by ${v.by}` : ''}${v.at !== null ? ` at ${localDateTime(v.at)}` : ''}`;

function importLabels(command: Command, opts: LabelOptions, file: string, by: string): void {
  let rows;
  try {
    rows = readLabelFile(file);
  } catch (err) {
    if (err instanceof LabelError || err instanceof InputFileError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  if (rows.length === 0) throw new CliError(`${file}: no labels in it (one JSON object a line: {"id": …, "intent": …})`, EXIT.empty);
  const config = configFor(command).config;
  const summary = withWritableLogDatabase(command, opts.db, (db, path) => {
    const store = new LogStore(db, { path });
    const vocab = vocabularyFromConfig(config, loggedGoldIntents(db));
    const at = Date.now();
    const warnings = new Map<string, number[]>();
    let intents = 0;
    let slots = 0;
    let sentiments = 0;
    let replaced = 0;
    const seqs = new Set<number>();
    try {
      // One transaction: any row that cannot be stored rolls back every row before it.
      // Ids are resolved before the write transaction (a read of the table), so the agent waits only for the writes;
      // LogStore.label checks each input again (by seq) inside it.
      const targets = findLabelTargets(db, rows.map((r) => parseInputRef(r.id)));
      db.transaction(() => {
        for (const row of rows) {
          try {
            const found = targets.get(keyOf(parseInputRef(row.id)))!;
            if (found.ok && row.expectId !== undefined && found.target.id !== row.expectId) {
              throw new LabelError(`${row.id} has id ${JSON.stringify(found.target.id)}, not ${JSON.stringify(row.expectId)} (is this file from another database?)`);
            }
            const r = applyLabel(store, vocab, row.id, found, row, by, at);
            seqs.add(r.target.seq);
            if (r.checked.intent !== undefined) intents++;
            if (r.checked.slots) slots++;
            if (r.checked.sentiment !== undefined) sentiments++;
            if (r.previous) replaced++;
            for (const w of r.checked.warnings) warnings.set(w, [...(warnings.get(w) ?? []), row.line]);
          } catch (err) {
            if (err instanceof LabelError) throw new LabelError(`${file}:${row.line}: ${err.message}`);
            throw err;
          }
        }
      }).immediate();
    } catch (err) {
      if (err instanceof LabelError) throw new CliError(`${err.message}; nothing was imported (fix the line and run the import again)`, EXIT.usage);
      throw err;
    }
    return { rows: rows.length, inputs: seqs.size, intents, slots, sentiments, replaced, warnings: [...warnings].map(([message, lines]) => ({ message, lines })) };
  });
  for (const w of summary.warnings) process.stderr.write(`hubnlu label: warning: ${w.message} (${file} line${w.lines.length > 1 ? 's' : ''} ${w.lines.slice(0, 10).join(', ')}${w.lines.length > 10 ? ', …' : ''})\n`);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ file, by, ...summary })}\n`);
    return;
  }
  process.stdout.write(
    `imported ${summary.rows} label${summary.rows === 1 ? '' : 's'} from ${file} for ${summary.inputs} input${summary.inputs === 1 ? '' : 's'}: ` +
      `${summary.intents} intent, ${summary.slots} with slots, ${summary.sentiments} sentiment; ${summary.replaced} replaced an earlier label (kept in the history)\n`,
  );
}

function showHistory(command: Command, opts: LabelOptions, ref: string): void {
  const result = withLogDatabase(command, opts.db, (db) => {
    const found = findLabelTarget(db, parseInputRef(ref));
    if (!found.ok) throw new CliError(found.message, found.code === 'ambiguous' ? EXIT.usage : EXIT.empty);
    return { target: found.target, history: labelHistory(db, found.target.seq) };
  });
  const t = result.target;
  if (opts.json) {
    const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? ms : new Date(ms).toISOString());
    process.stdout.write(
      `${JSON.stringify({
        seq: t.seq,
        id: t.id,
        text: t.text,
        live: { intent: t.intent, confidence: t.confidence, sentiment: t.sentiment, model: t.intentModel },
        history: result.history.map((v) => ({ ...v, at: iso(v.at), ...(v.replacedAt !== undefined ? { replacedAt: iso(v.replacedAt) } : {}) })),
      })}\n`,
    );
    return;
  }
  const out = [`#${t.seq} (id ${t.id}) ${JSON.stringify(t.text ?? '')}`, `  live: intent ${t.intent ?? '-'}${t.confidence !== null ? ` ${t.confidence.toFixed(2)}` : ''}, sentiment ${t.sentiment ?? '-'}${t.intentModel ? ` (${t.intentModel})` : ''}`];
  if (result.history.length === 0) out.push('  never labelled');
  result.history.forEach((v, i) => {
    const current = v.replacedAt === undefined;
    out.push(`  ${i + 1}. ${describeVersion(v)}${who(v)}${current ? ' (current)' : `; replaced${v.replacedBy ? ` by ${v.replacedBy}` : ''} at ${localDateTime(v.replacedAt!)}`}`);
  });
  process.stdout.write(`${out.map(printable).join('\n')}\n`);
}
