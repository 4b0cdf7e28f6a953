/**
 * Command-style sentences for training the language identifier: Home
 * Assistant's templates for a language expanded by the project's template
 * expander (src/corpus/templates), with the areas, floors and device names of
 * that language's fixtures and of the made-up households (src/corpus/households.ts),
 * one household per draw in turn. A few seeded draws per template; the template id
 * travels with each sentence so whole templates can be held out.
 */
import { join } from 'node:path';
import { fixtureHousehold, HOUSEHOLDS } from '../corpus/households.js';
import { loadGrammar } from '../corpus/templates/grammar.js';
import { sampleSentence } from '../corpus/templates/sample.js';
import { mulberry32 } from '../data/random.js';
import type { CommandSentence, CommandSource } from './langid.js';

/** `draws` seeded samples of every template of every intent file of a language. */
export function templateCommands(haDir: string, lang: string, draws: number, seed: number): CommandSentence[] {
  const grammar = loadGrammar(join(haDir, 'sentences', lang));
  const homes = [fixtureHousehold(join(haDir, 'fixtures', lang, '_fixtures.yaml'), lang), ...(HOUSEHOLDS[lang] ?? [])];
  const rand = mulberry32(seed);
  const out: CommandSentence[] = [];
  for (const group of grammar.groups) {
    for (const sentence of group.sentences) {
      for (let k = 0; k < draws; k++) {
        let s;
        try {
          s = sampleSentence(grammar, group, sentence, homes[k % homes.length], rand, { noSpaces: lang.startsWith('zh'), skipWordRate: 0.1 });
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
