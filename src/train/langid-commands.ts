/**
 * Command-style sentences for training the language identifier: Home
 * Assistant's templates for a language expanded by the project's template
 * expander (src/corpus/templates), with the areas, floors and device names of
 * that language's fixtures. A few seeded draws per template; the template id
 * travels with each sentence so whole templates can be held out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadGrammar } from '../corpus/templates/grammar.js';
import { sampleSentence, type Household } from '../corpus/templates/sample.js';
import { mulberry32 } from './data.js';
import type { CommandSentence, CommandSource } from './langid.js';

interface Fixtures {
  floors?: { name: string }[];
  areas?: { name: string }[];
  entities?: { name: string; id: string }[];
}

/** The household of `fixtures/<lang>/_fixtures.yaml`; wildcards (timer names, search queries) take area names. */
export function fixtureHousehold(haDir: string, lang: string): Household {
  const f = parseYaml(readFileSync(join(haDir, 'fixtures', lang, '_fixtures.yaml'), 'utf8')) as Fixtures;
  const areas = (f.areas ?? []).map((a) => String(a.name));
  return {
    name: `fixtures-${lang}`,
    areas,
    floors: (f.floors ?? []).map((x) => String(x.name)),
    entities: (f.entities ?? []).map((e) => ({ name: String(e.name), domain: String(e.id).split('.')[0] })),
    wildcards: { '*': areas },
  };
}

/** `draws` seeded samples of every template of every intent file of a language. */
export function templateCommands(haDir: string, lang: string, draws: number, seed: number): CommandSentence[] {
  const grammar = loadGrammar(join(haDir, 'sentences', lang));
  const home = fixtureHousehold(haDir, lang);
  const rand = mulberry32(seed);
  const out: CommandSentence[] = [];
  for (const group of grammar.groups) {
    for (const sentence of group.sentences) {
      for (let k = 0; k < draws; k++) {
        let s;
        try {
          s = sampleSentence(grammar, group, sentence, home, rand, { noSpaces: lang.startsWith('zh'), skipWordRate: 0.1 });
        } catch {
          continue; // a template the fixtures cannot fill (a list they lack): other templates cover the language
        }
        if (s && s.text.trim()) out.push({ text: s.text.trim(), template: sentence.id });
      }
    }
  }
  return out;
}

/** A `CommandSource` over `<datasets>/ha-intents`. */
export function haCommandSource(datasets: string, draws = 12, seed = 1): CommandSource {
  return (lang) => templateCommands(join(datasets, 'ha-intents'), lang, draws, seed);
}
