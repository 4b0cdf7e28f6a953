import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, TemplateSyntaxError } from '../../../src/corpus/templates/syntax.js';
import { parseGrammar, type Grammar } from '../../../src/corpus/templates/grammar.js';
import { sampleSentence, type Household, type SampledSentence } from '../../../src/corpus/templates/sample.js';
import { mulberry32 } from '../../../src/data/random.js';
import { datasetFile, needsDatasets } from '../../helpers/datasets.js';

const home: Household = {
  name: 'test',
  areas: ['Küche', 'Wohnzimmer'],
  floors: ['Keller'],
  entities: [{ name: 'Deckenlampe', domain: 'light' }, { name: 'Ventilator', domain: 'fan' }, { name: 'Haustür', domain: 'lock' }],
  wildcards: { search_query: ['Jazz'] },
};

function grammarOf(intentYaml: string, common = ''): Grammar {
  return parseGrammar([{ file: '_common.yaml', text: common || 'language: de\n' }, { file: 'light_HassTurnOn.yaml', text: intentYaml }]);
}

/** Every distinct sentence 400 seeded draws give for the first template. */
function draws(g: Grammar, n = 400, seed = 1): SampledSentence[] {
  const rand = mulberry32(seed);
  const seen = new Map<string, SampledSentence>();
  const grp = g.groups[0];
  for (let i = 0; i < n; i++) {
    const s = sampleSentence(g, grp, grp.sentences[0], home, rand);
    if (s) seen.set(s.text, s);
  }
  return [...seen.values()];
}
const texts = (g: Grammar): string[] => draws(g).map((s) => s.text).sort();
const oneIntent = (sentence: string, extra = ''): string =>
  `language: de\nintents:\n  HassTurnOn:\n    data:\n      - sentences:\n          - "${sentence}"\n${extra}`;

test('alternatives (a|b) give each option', () => {
  assert.deepEqual(texts(grammarOf(oneIntent('(mach|schalte) an'))), ['mach an', 'schalte an']);
});

test('[optional] is sometimes there, and spaces inside it collapse', () => {
  assert.deepEqual(texts(grammarOf(oneIntent('licht[ bitte] an'))), ['licht an', 'licht bitte an']);
  assert.deepEqual(texts(grammarOf(oneIntent('[a|b] c'))), ['a c', 'b c', 'c']);
});

test('(a;b) permutations give every order, space-joined', () => {
  assert.deepEqual(texts(grammarOf(oneIntent('x (a;b;c)'))).length, 6);
  assert.ok(texts(grammarOf(oneIntent('x (a;b;c)'))).includes('x c b a'));
});

test('<rule> expands common and local rules; local shadows common', () => {
  const common = 'language: de\nexpansion_rules:\n  an: "(an|ein)"\n  licht: "Licht"\n';
  assert.deepEqual(texts(grammarOf(oneIntent('<licht> <an>'), common)), ['Licht an', 'Licht ein']);
  const local = oneIntent('<licht> <an>', '        expansion_rules:\n          licht: "Lampe"\n');
  assert.deepEqual(texts(grammarOf(local, common)), ['Lampe an', 'Lampe ein']);
  assert.throws(() => draws(grammarOf(oneIntent('<nope>'))), /unknown expansion rule <nope>/);
});

test('{list} with in/out values: span covers the text, value is the out value; {list:slot} renames the slot', () => {
  const common = 'language: de\nlists:\n  color:\n    values:\n      - in: "(rot|rote)"\n        out: red\n      - blau\n';
  const out = draws(grammarOf(oneIntent('mach es {color}'), common));
  assert.equal(out.length, 3);
  for (const s of out) {
    const slot = s.slots[0];
    assert.equal(slot.type, 'color');
    assert.equal(s.text.slice(slot.start, slot.end), s.text.slice(8));
    assert.equal(slot.value, s.text.endsWith('blau') ? 'blau' : 'red');
  }
  const renamed = draws(grammarOf(oneIntent('{color:farbe}'), common));
  assert.ok(renamed.every((s) => s.slots[0].type === 'farbe' && s.slots[0].list === 'color'));
});

test('range lists give numbers in range with numeric values; a numberWords hook can spell them', () => {
  const common = 'language: de\nlists:\n  brightness:\n    range:\n      type: percentage\n      from: 10\n      to: 20\n      step: 5\n';
  const out = draws(grammarOf(oneIntent('auf {brightness}%'), common));
  assert.deepEqual(out.map((s) => s.slots[0].value).sort(), [10, 15, 20]);
  for (const s of out) assert.equal(s.text.slice(s.slots[0].start, s.slots[0].end), String(s.slots[0].value));
  const g = grammarOf(oneIntent('auf {brightness}%'), common);
  const words = sampleSentence(g, g.groups[0], g.groups[0].sentences[0], home, mulberry32(2), { numberWords: (n) => `n${n}` })!;
  assert.match(words.text, /^auf n(10|15|20)%$/);
  assert.equal(words.text.slice(words.slots[0].start, words.slots[0].end), `n${words.slots[0].value}`);
});

test('wildcard lists are filled from the household; without fillers the sample is skipped', () => {
  const common = 'language: de\nlists:\n  search_query:\n    wildcard: true\n  message:\n    wildcard: true\n';
  assert.deepEqual(texts(grammarOf(oneIntent('spiele {search_query}'), common)), ['spiele Jazz']);
  assert.deepEqual(texts(grammarOf(oneIntent('sage {message}'), common)), []);
});

test('{area} and {name} come from the household; requires_context/excludes_context filter entities and set the domain', () => {
  const light = draws(grammarOf(oneIntent('{name} im {area} an', '        requires_context:\n          domain: light\n')));
  assert.ok(light.length >= 2);
  for (const s of light) {
    assert.equal(s.domain, 'light');
    assert.deepEqual(s.slots.map((x) => [x.type, s.text.slice(x.start, x.end)]), [['name', 'Deckenlampe'], ['area', s.slots[1].value as string]]);
  }
  const notLight = draws(grammarOf(oneIntent('{name} an', '        excludes_context:\n          domain:\n            - light\n')));
  assert.deepEqual(notLight.map((s) => s.domain).sort(), ['fan', 'lock']);
  const none = draws(grammarOf(oneIntent('{name} an', '        requires_context:\n          domain: vacuum\n')));
  assert.equal(none.length, 0);
});

test('fixed slots: and the file name give the domain when no entity is named', () => {
  const fixed = draws(grammarOf(oneIntent('alles an', '        slots:\n          domain: fan\n')));
  assert.equal(fixed[0].domain, 'fan');
  assert.equal(draws(grammarOf(oneIntent('alles an')))[0].domain, 'light'); // light_HassTurnOn.yaml
});

test('skip words are added before or after, shifting slot offsets', () => {
  const g = parseGrammar([
    { file: '_common.yaml', text: 'language: de\nskip_words:\n  - bitte\n' },
    { file: 'light_HassTurnOn.yaml', text: oneIntent('{area} an') },
  ]);
  const rand = mulberry32(3);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = sampleSentence(g, g.groups[0], g.groups[0].sentences[0], home, rand, { skipWordRate: 1 })!;
    assert.equal(s.text.slice(s.slots[0].start, s.slots[0].end), s.slots[0].value);
    seen.add(s.text.startsWith('bitte') ? 'before' : 'after');
  }
  assert.deepEqual([...seen].sort(), ['after', 'before']);
});

test('languages without spaces drop template spaces', () => {
  const g = grammarOf(oneIntent('打开 {area} 的灯'));
  const s = sampleSentence(g, g.groups[0], g.groups[0].sentences[0], { ...home, areas: ['客厅'] }, mulberry32(1), { noSpaces: true })!;
  assert.equal(s.text, '打开客厅的灯');
  assert.equal(s.text.slice(s.slots[0].start, s.slots[0].end), '客厅');
});

test('syntax errors name the template and the position', () => {
  assert.throws(() => parseTemplate('(a|b'), TemplateSyntaxError);
  assert.throws(() => parseTemplate('a)'), /at character 1/);
  assert.throws(() => parseTemplate('{x'), /never closed/);
  assert.throws(() => grammarOf(oneIntent('(a|b')), /light_HassTurnOn.yaml: template "\(a\|b"/);
});

test('the real Home Assistant files of every language parse, and every template samples with the fixtures', needsDatasets, async () => {
  const { loadGrammar } = await import('../../../src/corpus/templates/grammar.js');
  for (const lang of ['de', 'fr', 'es', 'zh-cn']) {
    const g = loadGrammar(datasetFile('ha-intents', 'sentences', lang));
    assert.ok(g.groups.length > 20, lang);
    const rand = mulberry32(1);
    for (const grp of g.groups) for (const s of grp.sentences) sampleSentence(g, grp, s, { ...home, wildcards: { '*': ['x'] } }, rand);
  }
});

test('expandGrammar: a household custom_sentences file becomes dataset rows with HA names', async () => {
  const { expandGrammar } = await import('../../../src/corpus/templates/sample.js');
  const g = parseGrammar([{
    file: 'custom.yaml',
    text: 'language: de\nintents:\n  SetAquarium:\n    data:\n      - sentences:\n          - "(stell|mach) das Aquarium auf {farbe}"\nlists:\n  farbe:\n    values:\n      - in: blau\n        out: blue\n      - grün\n',
  }]);
  const rows = [...expandGrammar(g, [home], { perTemplate: 50, rand: mulberry32(4), source: 'custom' })];
  assert.equal(rows.length, 4);
  for (const r of rows) {
    assert.equal(r.intent, 'SetAquarium');
    assert.equal(r.source, 'custom');
    assert.equal(r.slots[0].type, 'farbe');
    assert.equal(r.text.slice(r.slots[0].start, r.slots[0].end), r.text.endsWith('blau') ? 'blau' : 'grün');
    assert.equal(r.slots[0].value, r.text.endsWith('blau') ? 'blue' : 'grün');
  }
  assert.throws(() => [...expandGrammar(g, [], { perTemplate: 1, rand: mulberry32(1), source: 'x' })], /at least one household/);
});

test('a recursive expansion rule or list is an error at load naming the cycle, not a stack overflow at sampling', () => {
  assert.throws(() => grammarOf(oneIntent('mach <a> an'), 'language: de\nexpansion_rules:\n  a: "das <a>"\n'), (e: Error) => {
    assert.ok(!(e instanceof RangeError));
    assert.match(e.message, /light_HassTurnOn\.yaml#HassTurnOn\/0\/0: <a> → <a> refers back to itself/);
    return true;
  });
  // Through two rules, an optional branch and a local rule: still a cycle (hassil rules cannot recurse).
  assert.throws(
    () => grammarOf(oneIntent('mach <a> an', '        expansion_rules:\n          b: "[<a>] Licht"\n'), 'language: de\nexpansion_rules:\n  a: "das <b>"\n'),
    /<a> → <b> → <a> refers back to itself/,
  );
  // A list whose value names the list.
  assert.throws(() => grammarOf(oneIntent('mach {farbe}'), 'language: de\nlists:\n  farbe:\n    values:\n      - "hell {farbe}"\n'), /\{farbe\} → \{farbe\} refers back to itself/);
  // A rule used twice is no cycle.
  assert.deepEqual(texts(grammarOf(oneIntent('<x> <x>'), 'language: de\nexpansion_rules:\n  x: "(a|b)"\n')), ['a a', 'a b', 'b a', 'b b']);
});

test('unknown rules and lists are errors at load, even in a branch a draw may not reach', () => {
  assert.throws(() => grammarOf(oneIntent('mach [<fehlt>] an')), /light_HassTurnOn\.yaml#HassTurnOn\/0\/0: unknown expansion rule <fehlt>; define it under expansion_rules/);
  assert.throws(() => grammarOf(oneIntent('mach [{fehlt}] an')), /light_HassTurnOn\.yaml#HassTurnOn\/0\/0: unknown list \{fehlt\}; define it under lists/);
  // {area}, {floor} and {name} come from the household.
  assert.equal(grammarOf(oneIntent('{name} in {area} auf {floor} an')).groups.length, 1);
});

test('lists that cannot be drawn from are errors at load naming the list: no values, a range step that is not positive', () => {
  assert.throws(() => grammarOf(oneIntent('mach {farbe}'), 'language: de\nlists:\n  farbe:\n    values: []\n'), /_common\.yaml: list "farbe" has no values/);
  for (const step of ['0', '-2', 'x']) {
    assert.throws(
      () => grammarOf(oneIntent('auf {n}'), `language: de\nlists:\n  n:\n    range:\n      from: 0\n      to: 10\n      step: ${step}\n`),
      /_common\.yaml: list "n" has a range step that is not a positive number/,
      step,
    );
  }
});

test('a fractional range step gives the numbers as written (0.3, not 0.30000000000000004)', () => {
  const g = grammarOf(oneIntent('auf {n}'), 'language: de\nlists:\n  n:\n    range:\n      from: 0\n      to: 1\n      step: 0.1\n');
  const values = draws(g).map((s) => s.slots[0].value as number);
  assert.equal(new Set(values).size, 11);
  for (const v of values) assert.equal(String(v).length <= 3, true, String(v));
});

test('sentences and rules must be text: a null or a list in the YAML is an error naming the file, not the template "null"', () => {
  assert.throws(() => grammarOf('language: de\nintents:\n  HassTurnOn:\n    data:\n      - sentences:\n          - ~\n'), /light_HassTurnOn\.yaml: HassTurnOn data\[0\] sentences\[0\] must be a template string/);
  assert.throws(() => grammarOf(oneIntent('<a>'), 'language: de\nexpansion_rules:\n  a: [x, y]\n'), /_common\.yaml: expansion rule "a" must be a template string/);
});

test('a template that can expand to nothing yields no empty sentence', async () => {
  const { expandGrammar } = await import('../../../src/corpus/templates/sample.js');
  const rows = [...expandGrammar(grammarOf(oneIntent('[Licht] [an]')), [home], { perTemplate: 50, rand: mulberry32(2), source: 'x' })];
  assert.deepEqual(rows.map((r) => r.text).sort(), ['Licht', 'Licht an', 'an']);
});

test('groups nested past 100 levels are a syntax error naming the position, not a stack overflow', () => {
  const deep = `${'('.repeat(20000)}a${')'.repeat(20000)}`;
  assert.throws(() => parseTemplate(deep), (e: Error) => e instanceof TemplateSyntaxError && /at character 100: groups nested deeper than 100 levels/.test(e.message));
  assert.equal(texts(grammarOf(oneIntent(`${'('.repeat(100)}a${')'.repeat(100)}`))).join(), 'a');
});
