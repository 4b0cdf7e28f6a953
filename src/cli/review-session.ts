/**
 * `hubnlu review --interactive`: one queued input at a time in the terminal,
 * the utterance, the live answer and its alternatives, and a one-letter
 * answer (then Enter):
 *
 *   a       accept the live intent (and its slots) as the gold label
 *   1-3     take that alternative as the intent
 *   t       type another intent (a new one is allowed, with a warning)
 *   s       skip (it stays in the queue)
 *   u       back to the input just labelled, to label it again (the
 *           mistaken label stays in its history); again: one further back,
 *           through this session's labels in order (a stack). Relabelling
 *           (or `s`, keeping the label) returns to where the session was,
 *           without showing the inputs walked past again
 *   q       quit
 *
 * Each answer is stored at once through `LogStore.label` (one short
 * transaction; the agent may be running), so quitting loses nothing. The
 * queue is read at the start: an input someone labelled meanwhile (the bridge,
 * `hubnlu label`, another review) keeps that label, and one retention deleted
 * is passed over, each said so. The session's own label (the `gold_at` and
 * labeller it wrote) is not someone else's: going back to it with `u` replaces it.
 * Line-based (readline), so it works in any terminal and from a pipe.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Db } from '../store/database.js';
import { LogStore } from '../store/log-store.js';
import type { ReviewItem } from '../store/review.js';
import { checkLabel, LabelError, type LabelInput, type LabelVocabulary, type StoredSlot } from '../data/label-check.js';
import { localDateTime, printable } from './format.js';
import { visibleName } from '../util/text-safety.js';

export interface SessionResult {
  readonly shown: number;
  readonly labelled: number;
  readonly skipped: number;
  readonly quit: boolean;
}

export interface SessionIo {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
}

/** Reads lines one at a time; `null` at the end of input. */
class LineReader {
  private readonly lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private closed = false;

  constructor(private readonly rl: Interface) {
    rl.on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(line);
      } else this.lines.push(line);
    });
    rl.on('close', () => {
      this.closed = true;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(null);
      }
    });
  }

  next(prompt: string): Promise<string | null> {
    this.rl.setPrompt(prompt);
    this.rl.prompt();
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

function liveSlots(item: ReviewItem): StoredSlot[] {
  if (!Array.isArray(item.slots)) return [];
  const out: StoredSlot[] = [];
  for (const s of item.slots as Array<Record<string, unknown>>) {
    if (typeof s.type === 'string' && typeof s.start === 'number' && typeof s.end === 'number' && s.end <= item.text.length) {
      out.push({ type: s.type, value: String(s.value ?? item.text.slice(s.start, s.end)), raw: item.text.slice(s.start, s.end), start: s.start, end: s.end });
    }
  }
  return out;
}

function render(item: ReviewItem, index: number, total: number): string {
  const lines: string[] = [];
  lines.push('');
  lines.push(`[${index + 1}/${total}] #${item.seq} · ${visibleName(item.siteId)} · ${localDateTime(item.receivedAt)}${item.model ? ` · ${item.model}` : ''}`);
  lines.push(`  "${item.text}"`);
  const slots = liveSlots(item);
  lines.push(`  live:  ${item.intent ?? '-'}${item.confidence !== null ? ` (${item.confidence.toFixed(2)})` : ''}${slots.length ? `  slots ${slots.map((s) => `${s.type}=${s.raw}`).join(', ')}` : ''}${item.sentiment ? `  sentiment ${item.sentiment}` : ''}`);
  if (item.shadow?.intent) lines.push(`  shadow: ${item.shadow.intent}${item.shadow.confidence !== null ? ` (${item.shadow.confidence.toFixed(2)})` : ''}`);
  item.alternatives.slice(0, 3).forEach((a, i) => lines.push(`  ${i + 1}) ${a.name} (${a.confidence.toFixed(2)})`));
  lines.push(`  why: ${item.reasons.map((r) => r.detail).join('; ')}`);
  return lines.join('\n') + '\n';
}

const HELP = 'a = accept live · 1-3 = alternative · t = type a label · s = skip · u = back to the last labelled (again: further back) · q = quit';

export async function runReviewSession(db: Db, items: readonly ReviewItem[], vocab: LabelVocabulary, by: string, io: SessionIo, path?: string): Promise<SessionResult> {
  const store = new LogStore(db, { path });
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  const reader = new LineReader(rl);
  const say = (text: string) => io.output.write(text);
  let labelled = 0;
  let skipped = 0;
  let shown = 0;
  let quit = false;
  say(`${items.length} input${items.length === 1 ? '' : 's'} to review. ${HELP}\n`);
  /** A label this session wrote: the input (its index in `items`) and the `gold_at` it wrote. */
  type Own = { readonly index: number; readonly at: number };
  /** The session's own labels, in queue order: `u` pops the last one. */
  const stack: Own[] = [];
  /** Labels passed over while walking back (`u` on an input being revisited): kept, newest first; back on the stack when the walk ends. */
  const passed: Own[] = [];
  /** The `gold_at` each input this session labelled was given by it (latest): its own label is not another labeller's. */
  const ownAt = new Map<number, number>();
  /** The current gold label of an input: null when it has none, undefined when it is no longer in the log. */
  const current = db.prepare('SELECT gold_intent AS intent, gold_by AS by, gold_at AS at, gold_slots AS slots, gold_sentiment AS sentiment FROM inputs WHERE seq = ?');
  /** The first input not yet answered in this session: where it carries on after a walk back. */
  let frontier = 0;
  /** The input shown, and whether it is one of the session's own labels being revisited (`u`). */
  let i = 0;
  let revisit: Own | undefined;
  /** Ends a walk back: the revisited input (relabelled or kept; absent when it was dropped) and those passed over go back on the stack, in queue order, and the session carries on where it was. */
  const endRevisit = (kept: Own | undefined): void => {
    if (kept) stack.push(kept);
    while (passed.length) stack.push(passed.pop()!);
    revisit = undefined;
    i = frontier;
  };
  try {
    outer: while (i < items.length) {
      const item = items[i];
      shown = Math.max(shown, i + 1);
      say(render(item, i, items.length));
      for (;;) {
        const answer = await reader.next('> ');
        if (answer === null) {
          quit = true;
          break outer;
        }
        const key = answer.trim().toLowerCase();
        let label: LabelInput | null = null;
        if (key === 'q') {
          quit = true;
          break outer;
        } else if (key === 'u') {
          const last = stack.pop();
          if (!last) {
            say('  nothing to go back to: no input labelled in this session yet\n');
            continue;
          }
          // Leaving an input being revisited keeps its label; it goes back on the stack when the walk ends.
          if (revisit) passed.push(revisit);
          revisit = last;
          say(`  back to #${items[last.index].seq}: label it again (s keeps the label it has)\n`);
          i = last.index;
          continue outer;
        } else if (key === 's' || key === '') {
          if (revisit) {
            say(`  kept the label of #${item.seq}\n`);
            endRevisit(revisit);
          } else {
            skipped++;
            i = frontier = i + 1;
          }
          continue outer;
        } else if (key === 'a') {
          if (!item.intent) {
            say('  no live intent to accept; pick an alternative or type one\n');
            continue;
          }
          label = { intent: item.intent };
        } else if (/^[1-3]$/.test(key)) {
          const alt = item.alternatives[Number(key) - 1];
          if (!alt) {
            say(`  there is no alternative ${key}\n`);
            continue;
          }
          label = { intent: alt.name };
        } else if (key === 't') {
          const typed = await reader.next('  intent: ');
          if (typed === null) {
            quit = true;
            break outer;
          }
          if (!typed.trim()) continue;
          label = { intent: typed.trim() };
        } else {
          say(`  ${HELP}\n`);
          continue;
        }
        try {
          const checked = checkLabel(item.text, label, vocab);
          for (const w of checked.warnings) say(`  warning: ${w}\n`);
          // Accepting the live answer accepts its slots too; another intent leaves the slots unlabelled.
          const slots = key === 'a' ? liveSlots(item) : undefined;
          // Never the same gold_at as this session's label before it: a relabel must stay distinguishable from it.
          const at = Math.max(Date.now(), (ownAt.get(item.seq) ?? 0) + 1);
          // In one IMMEDIATE transaction: the label it has now (another labeller may have been quicker), then the write.
          const r = db
            .transaction(() => {
              const now = current.get(item.seq) as { intent: string | null; by: string | null; at: number | null; slots: string | null; sentiment: string | null } | undefined;
              if (!now) return { ok: false as const, why: 'gone' as const };
              const labelledNow = now.at !== null || now.intent !== null || now.slots !== null || now.sentiment !== null;
              // The label this session wrote (same gold_at, same labeller) may be replaced; anyone else's stands.
              const ours = ownAt.has(item.seq) && now.at === ownAt.get(item.seq) && now.by === by;
              if (labelledNow && !ours) return { ok: false as const, why: 'labelled' as const, now };
              return store.label({ seq: item.seq }, { intent: checked.intent, ...(slots ? { slots } : {}), by, at });
            })
            .immediate();
          if (!r.ok) {
            if ('why' in r && r.why === 'labelled') {
              say(`  #${item.seq} was labelled meanwhile by ${printable(r.now.by ?? 'someone')} (intent ${printable(r.now.intent ?? '-')}); kept, moving on (hubnlu label '#${item.seq}' --intent … changes it)\n`);
            } else {
              say(`  #${item.seq} is no longer in the log (retention deletes old inputs); moving on\n`);
            }
            ownAt.delete(item.seq);
            skipped++;
            if (revisit) endRevisit(undefined); // no longer the session's label: off the stack
            else i = frontier = i + 1;
            continue outer;
          }
          ownAt.set(item.seq, at);
          say(`  labelled #${item.seq} as ${checked.intent}\n`);
          if (revisit) endRevisit({ index: i, at });
          else {
            stack.push({ index: i, at });
            i = frontier = i + 1;
          }
          continue outer;
        } catch (err) {
          if (!(err instanceof LabelError)) throw err;
          say(`  ${err.message}\n`);
        }
      }
    }
    labelled = stack.length + passed.length + (revisit ? 1 : 0);
  } finally {
    rl.close();
  }
  say(`\n${labelled} labelled, ${skipped} skipped${items.length > shown ? `, ${items.length - shown} not shown` : ''}\n`);
  return { shown, labelled, skipped, quit };
}
