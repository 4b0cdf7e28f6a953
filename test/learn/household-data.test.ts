import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataWarnings, householdData, templateRows } from '../../src/learn/household-data.js';
import { InputFileError } from '../../src/data/input-file.js';

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
