/**
 * Provenance of the public training files in `../shared/datasets` (from its
 * README), recorded in every manifest and model card: each source keeps its
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

export function sourceInfo(file: string): SourceInfo {
  return KNOWN[basename(file)] ?? { source: `user data (${basename(file)})`, licence: 'unknown (user data)' };
}
