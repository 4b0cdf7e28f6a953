/** The review queue on a real SQLite file: each reason found where it applies and nowhere else, ordered by weight. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { hasColumn, reviewQueue } from '../../src/store/review.js';
import { seedDatabase, type SeedRow } from './seed.js';

let dir: string;
let path: string;
const t0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const S = 1000;
const alt = (a: number, b: number, names = ['iot_hue_lighton', 'iot_hue_lightoff']) => [
  { name: names[0], confidence: a },
  { name: names[1], confidence: b },
];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-review-'));
  path = join(dir, 'hubnlu.db');
  const rows: SeedRow[] = [
    // 1: confident and fine: not queued.
    { id: 'fine', receivedAt: t0, site: 'hall', status: 'done', text: 'turn on the lights', intent: 'iot_hue_lighton', confidence: 0.95, alternatives: alt(0.95, 0.02), sentiment: 'neutral' },
    // 2: unknown.
    { id: 'unk', receivedAt: t0 + 100 * S, site: 'hall', status: 'done', text: 'open the garage', intent: 'unknown', confidence: 0.2, alternatives: alt(0.2, 0.1, ['iot_wemo_on', 'iot_hue_lighton']), sentiment: 'neutral' },
    // 3, 4: the same request again 6 s later at the same site (and the second a close call).
    { id: 'rep1', receivedAt: t0 + 200 * S, site: 'kitchen', status: 'done', text: 'Play some jazz', intent: 'music_query', confidence: 0.8, alternatives: alt(0.8, 0.1, ['music_query', 'play_music']), sentiment: 'neutral' },
    { id: 'rep2', receivedAt: t0 + 206 * S, site: 'kitchen', status: 'done', text: 'play some jazz ', intent: 'play_music', confidence: 0.7, alternatives: alt(0.45, 0.4, ['play_music', 'music_query']), sentiment: 'neutral' },
    // 5: the same text at another site: no repeat.
    { id: 'other-site', receivedAt: t0 + 207 * S, site: 'den', status: 'done', text: 'play some jazz', intent: 'play_music', confidence: 0.9, alternatives: alt(0.9, 0.05), sentiment: 'neutral' },
    // 6, 7: a command, then "no, stop" (negative) 4 s later at the same site.
    { id: 'cmd', receivedAt: t0 + 300 * S, site: 'bedroom', status: 'done', text: 'turn off the heating', intent: 'iot_hue_lightoff', confidence: 0.85, alternatives: alt(0.85, 0.05, ['iot_hue_lightoff', 'iot_wemo_off']), sentiment: 'neutral' },
    { id: 'neg', receivedAt: t0 + 304 * S, site: 'bedroom', status: 'done', text: 'no that is wrong', intent: 'general_negate', confidence: 0.9, alternatives: alt(0.9, 0.02), sentiment: 'negative' },
    // 8: low confidence but labelled already: not queued.
    { id: 'done-low', receivedAt: t0 + 400 * S, site: 'hall', status: 'done', text: 'what about tomorrow', intent: 'weather_query', confidence: 0.3, alternatives: alt(0.3, 0.2), gold: { intent: 'weather_query' } },
    // 12-14 (appended below): the same request with one input between ("no") 8 s later: both a repeat.
    // 9: low confidence only.
    { id: 'low', receivedAt: t0 + 500 * S, site: 'hall', status: 'done', text: 'set it warmer', intent: 'iot_hue_lightup', confidence: 0.5, alternatives: alt(0.5, 0.1), sentiment: 'neutral' },
    // 10: same text 2 minutes later: too late for a repeat.
    { id: 'late1', receivedAt: t0 + 600 * S, site: 'hall', status: 'done', text: 'lights off', intent: 'iot_hue_lightoff', confidence: 0.9, alternatives: alt(0.9, 0.01), sentiment: 'neutral' },
    { id: 'late2', receivedAt: t0 + 720 * S, site: 'hall', status: 'done', text: 'lights off', intent: 'iot_hue_lightoff', confidence: 0.9, alternatives: alt(0.9, 0.01), sentiment: 'neutral' },
    { id: 'again1', receivedAt: t0 + 420 * S, site: 'study', status: 'done', text: 'close the blinds', intent: 'iot_wemo_off', confidence: 0.9, alternatives: alt(0.9, 0.01), sentiment: 'neutral' },
    { id: 'between', receivedAt: t0 + 423 * S, site: 'study', status: 'done', text: 'no', intent: 'general_negate', confidence: 0.95, alternatives: alt(0.95, 0.01), sentiment: 'neutral' },
    { id: 'again2', receivedAt: t0 + 428 * S, site: 'study', status: 'done', text: 'Close the blinds', intent: 'iot_wemo_off', confidence: 0.9, alternatives: alt(0.9, 0.01), sentiment: 'neutral' },
  ];
  seedDatabase(path, rows);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const codes = (items: ReturnType<typeof reviewQueue>) => Object.fromEntries(items.map((i) => [i.id, i.reasons.map((r) => r.code).sort()]));

test('each reason where it applies, nothing for confident, labelled or far-apart inputs', () => {
  const db = openDatabase(path, { readonly: true });
  try {
    // Migration 5 (the shadow model) adds the columns; with no shadow configured they stay empty and give no reason.
    assert.equal(hasColumn(db, 'inputs', 'shadow_intent'), true);
    const items = reviewQueue(db, { limit: 50 });
    assert.deepEqual(codes(items), {
      unk: ['close_top2', 'low_confidence', 'unknown'],
      rep1: ['repeated'],
      rep2: ['close_top2', 'repeated'],
      cmd: ['negative_after'],
      low: ['low_confidence'],
      again1: ['repeated'],
      again2: ['repeated'],
    });
    assert.match(items.find((i) => i.id === 'again1')!.reasons[0].detail, /said again 8\.0 s later at the same site \(#14\)/);
    assert.match(items.find((i) => i.id === 'again2')!.reasons[0].detail, /a repeat of #12, 8\.0 s earlier/);
    const cmd = items.find((i) => i.id === 'cmd')!;
    assert.match(cmd.reasons[0].detail, /followed 4\.0 s later by a negative "no that is wrong" \(#7\)/);
    assert.match(items.find((i) => i.id === 'rep2')!.reasons.find((r) => r.code === 'repeated')!.detail, /a repeat of #3, 6\.0 s earlier/);
    // Highest score first: unknown + very low confidence, then the close repeat.
    assert.deepEqual(items.map((i) => i.id).slice(0, 2), ['unk', 'rep2']);
    assert.ok(items.every((x, i) => i === 0 || items[i - 1].score >= x.score));
    assert.deepEqual(items[0].alternatives.map((a) => a.name), ['iot_wemo_on', 'iot_hue_lighton']);
    assert.equal(reviewQueue(db, { limit: 2 }).length, 2);
    assert.deepEqual(reviewQueue(db, { limit: 50, since: t0 + 450 * S }).map((i) => i.id), ['low']);
  } finally {
    db.close();
  }
});

test('live/shadow disagreement where the shadow model answered (columns of migration 5)', () => {
  const db = openDatabase(path, { check: false });
  try {
    db.prepare(`UPDATE inputs SET shadow_intent = 'iot_hue_lighton', shadow_model = 'cand@2', shadow_confidence = 0.7 WHERE id = 'fine'`).run();
    db.prepare(`UPDATE inputs SET shadow_intent = 'iot_hue_lightoff', shadow_model = 'cand@2', shadow_confidence = 0.9 WHERE id = 'late1'`).run();
    const items = reviewQueue(db, { limit: 50 });
    const late = items.find((i) => i.id === 'late1');
    assert.ok(late === undefined, 'agreeing shadow is no reason');
    const fine = items.find((i) => i.id === 'fine');
    assert.equal(fine, undefined);
    db.prepare(`UPDATE inputs SET shadow_intent = 'iot_wemo_on' WHERE id = 'late1'`).run();
    const again = reviewQueue(db, { limit: 50 }).find((i) => i.id === 'late1')!;
    assert.deepEqual(again.reasons.map((r) => r.code), ['shadow_disagrees']);
    assert.equal(again.reasons[0].detail, 'the shadow model cand@2 said iot_wemo_on');
    assert.deepEqual(again.shadow, { intent: 'iot_wemo_on', model: 'cand@2', confidence: 0.9 });
  } finally {
    db.close();
  }
});
