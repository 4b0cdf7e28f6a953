import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataWarnings, householdData, templateRows } from '../../src/learn/household-data.js';
import { InputFileError } from '../../src/data/input-file.js';
import { openLogDatabase } from '../../src/store/queries.js';
import { seedDatabase } from '../store/seed.js';

const YAML = `language: en
intents:
  iot_garage_open:
    data:
      - sentences:
          - "(open|raise|pop) [up] the (garage|carport) [door]"
          - "let the car out"
  HassTurnOn:
    data:
      - sentences:
          - "(switch|turn) on the lights in [the] {area}"
          - "<lights> on in [the] {area}"
        requires_context:
          domain: light
        expansion_rules:
          lights: "(lights|lamps)"
`;

function templatesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-templates-'));
  writeFileSync(join(dir, 'household.yaml'), YAML);
  return dir;
}

test('templates: household rooms fill {area} and come back as house_place slots; own intents keep their names', () => {
  const areas = ['orangery', 'boot room', 'snug'];
  const t = templateRows(templatesDir(), areas, { seed: 3 });
  const lighton = t.rows.filter((r) => r.label === 'iot_hue_lighton');
  assert.ok(lighton.length >= 6, `only ${lighton.length} light sentences`);
  for (const r of lighton) {
    const place = r.slots.find((s) => s.type === 'house_place');
    assert.ok(place, `no house_place in "${r.text}"`);
    assert.ok(areas.includes(place.value), place.value);
    assert.equal(r.text.slice(place.start, place.end), place.value);
  }
  assert.deepEqual(new Set(lighton.flatMap((r) => r.slots.map((s) => s.value))), new Set(areas), 'every room is used');
  const garage = t.rows.filter((r) => r.label === 'iot_garage_open');
  assert.ok(garage.some((r) => r.text === 'let the car out'));
  assert.ok(garage.some((r) => /^(open|raise|pop)( up)? the (garage|carport)( door)?$/.test(r.text)));
  assert.equal(new Set(t.rows.map((r) => r.text)).size, t.rows.length, 'no duplicates');
  assert.ok(t.rows.every((r) => !r.label.startsWith('Hass')), 'Home Assistant intents are mapped to hubnlu labels');
});

test('householdData gathers files and templates; thin new intents get a warning with numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-household-'));
  const file = join(dir, 'extra.jsonl');
  writeFileSync(file, ['{"text": "open sesame", "intent": "iot_garage_open"}', '{"text": "brew me a cuppa", "intent": "iot_coffee"}', '{"text": "feed the cat", "intent": "pet_feed"}'].join('\n'));
  const d = householdData({ jsonl: [file], templates: [templatesDir()], areas: ['den'], holdout: 0.5, seed: 1 });
  assert.equal(d.sources[`jsonl:${file}`], 3);
  assert.deepEqual(d.heldOut, [], 'only log rows are held out');
  const warnings = dataWarnings(d.labels, ['iot_coffee', 'iot_hue_lighton'], 10);
  assert.deepEqual(warnings, ['pet_feed: 1 example, fewer than 10: expect it to be missed'], 'known labels and well-covered new ones get no warning');
  assert.ok(d.labels.iot_garage_open >= 10);
  assert.deepEqual(dataWarnings({ iot_garage_open: 4 }, [], 10), ['iot_garage_open: 4 examples, fewer than 10: expect it to be missed']);
});

test('templates without rooms: a note says to set learning.areas', () => {
  const d = householdData({ templates: [templatesDir()], areas: [], holdout: 0.5, seed: 1 });
  assert.ok(d.notes.some((n) => /learning.areas is empty/.test(n)), d.notes.join('\n'));
  assert.ok(d.train.every((r) => r.label !== 'iot_hue_lighton'));
});

test('templates that cannot be read are InputFileErrors naming the directory or file and the fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-templates-bad-'));
  const missing = join(dir, 'nope');
  const fails = (d: string, re: RegExp) =>
    assert.throws(() => templateRows(d, ['den'], { seed: 1 }), (e: Error) => e instanceof InputFileError && re.test(e.message) && !/ENOENT: no such file|scandir/.test(e.message), d);
  fails(missing, new RegExp(`^${missing}: cannot read \\(ENOENT\\); --templates / learning.templates names a directory of custom_sentences YAML files`));
  const file = join(dir, 'garage.yaml');
  writeFileSync(file, YAML);
  fails(file, new RegExp(`^${file}: not a directory; .*give the directory that holds it`));
  const broken = join(dir, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'a.yaml'), 'language: en\nintents:\n  foo: [\n');
  fails(broken, new RegExp(`^${join(broken, 'a.yaml')}: not valid YAML \\(Flow sequence`));
  const rule = join(dir, 'rule');
  mkdirSync(rule);
  writeFileSync(join(rule, 'a.yaml'), 'language: en\nintents:\n  iot_garage_open:\n    data:\n      - sentences:\n          - "open the <nope>"\n');
  fails(rule, new RegExp(`^${rule}: a.yaml#iot_garage_open/0/0: unknown expansion rule <nope>`));
});

test('log rows: only those logged in the language of the retrained model (or without one) train and judge it; the others are counted', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hubnlu-household-lang-')), 'hubnlu.db');
  const now = Date.now();
  const rows = [
    ...Array.from({ length: 6 }, (_, i) => ({ text: `open the garage ${i}`, lang: 'en', intent: 'iot_garage_open' })),
    ...Array.from({ length: 2 }, (_, i) => ({ text: `open the carport ${i}`, lang: undefined, intent: 'iot_garage_open' })),
    ...Array.from({ length: 4 }, (_, i) => ({ text: `öffne das Garagentor ${i}`, lang: 'de', intent: 'iot_garage_open' })),
    ...Array.from({ length: 2 }, (_, i) => ({ text: `ouvre le garage ${i}`, lang: 'fr', intent: 'iot_garage_open' })),
  ];
  seedDatabase(path, rows.map((r, i) => ({ receivedAt: now + i, site: 'hall', status: 'done' as const, text: r.text, lang: r.lang, intent: 'unknown', confidence: 0.2, gold: { intent: r.intent } })));
  const db = openLogDatabase(path);
  try {
    const d = householdData({ db, language: 'en', areas: [], holdout: 0.5, seed: 1 });
    const texts = [...d.train, ...d.heldOut].map((r) => r.text);
    assert.equal(texts.length, 8, texts.join(' | '));
    assert.ok(texts.every((t) => /^open the/.test(t)), texts.join(' | '));
    assert.equal(d.sources.log + d.sources['log (held out)'], 8);
    assert.ok(d.notes.includes('6 labelled input(s) logged in another language than en were left out (this retrains the en intent model)'), d.notes.join('\n'));
    // Without a language (a caller that does not know it): every labelled row, as before.
    const all = householdData({ db, areas: [], holdout: 0.5, seed: 1 });
    assert.equal(all.train.length + all.heldOut.length, 14);
  } finally {
    db.close();
  }
});

test('templates that give no sentence ({name} without a name list, a wildcard list) are named in a note, not dropped silently', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-templates-silent-'));
  writeFileSync(
    join(dir, 'a.yaml'),
    'language: en\nintents:\n  iot_garage_open:\n    data:\n      - sentences:\n          - "open the {name}"\n          - "open the garage"\n  play_radio:\n    data:\n      - sentences:\n          - "play {station} radio"\nlists:\n  station:\n    wildcard: true\n',
  );
  const t = templateRows(dir, ['den'], { seed: 1 });
  assert.deepEqual(t.rows.map((r) => r.text), ['open the garage']);
  assert.deepEqual(t.silent, ['a.yaml#iot_garage_open/0/0', 'a.yaml#play_radio/0/0']);
  const d = householdData({ templates: [dir], areas: ['den'], holdout: 0.5, seed: 1 });
  const note = d.notes.find((n) => n.includes('gave no sentence'));
  assert.ok(note, d.notes.join('\n'));
  assert.match(note, /2 template\(s\) gave no sentence \(a\.yaml#iot_garage_open\/0\/0, a\.yaml#play_radio\/0\/0\).*"name" list.*wildcard/);
});
