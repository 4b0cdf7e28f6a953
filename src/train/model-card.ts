/**
 * MODEL_CARD.md for a model directory, generated from its manifest so the
 * numbers in the card are the numbers in the manifest.
 */
import type { ModelManifest } from '../model/manifest.js';
import type { ClassifierEval } from '../eval/evaluate.js';

export interface CardExtras {
  /** One paragraph: what the model is for. */
  readonly summary?: string;
  /** Extra markdown sections (title → body), placed after the metrics. */
  readonly sections?: Readonly<Record<string, string>>;
  /** Known limits, one bullet each. */
  readonly limits?: readonly string[];
  /** The command that reproduces the model. */
  readonly reproduce?: string;
}

/**
 * The first line of every shipped model's Reproduce block: the datasets are not part of the repository, and
 * train-defaults finds them only through `--datasets` or this variable (src/data/datasets-dir.ts).
 */
export const REPRODUCE_DATASETS = 'export HUBNLU_DATASETS=/path/to/datasets   # the public datasets (not in this repository; sources under "Training data and licences")';

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;

export function renderModelCard(m: ModelManifest, x: CardExtras): string {
  const out: string[] = [];
  const a = m.architecture;
  out.push(`# ${m.name} ${m.version} (${m.task})`);
  out.push('');
  if (x.summary) out.push(x.summary, '');
  out.push('## Architecture, and why');
  out.push('');
  out.push(
    `A fastText-style classifier (Joulin et al. 2017): the sentence is tokenised and normalised by hubnlu's shared ` +
      `\`tokenize()\` (case, punctuation, number words → digits), turned into hashed features by \`src/model/features.ts\` ` +
      `(word unigrams${m.featurizer.wordNgrams > 1 ? ' and bigrams' : ''}${m.featurizer.charNgrams ? `, character ${m.featurizer.charNgrams[0]}–${m.featurizer.charNgrams[1]}-grams with word-boundary markers` : ''}` +
      `${m.featurizer.numberShape ? ', a shape feature for numbers' : ''}; word features counted ${m.featurizer.wordWeight}×), ` +
      `hashed (FNV-1a, ${m.featurizer.buckets} buckets) and mapped to ${a.rows} kept embedding rows of dimension ${a.dim}. ` +
      `The rows are summed and divided by the number of *all* features of the sentence (unknown ones count as zero vectors, so ` +
      `unfamiliar input drifts towards the prior instead of being judged on the few n-grams it shares with training data), ` +
      `${a.hidden > 0 ? `passed through a ${a.hidden}-unit ReLU layer, ` : ''}then a linear layer gives one logit per label.`,
  );
  out.push('');
  const f = m.featurizer;
  if (f.surface || f.negation || f.lexicon) {
    const cues: string[] = [];
    if (f.surface) cues.push('punctuation and surface cues read from the raw text, which `tokenize()` drops (`!`, `?`, `!!`, `?!`, ellipsis, the closing mark, ALL-CAPS words, elongated words such as "sooo", text emoticons and emoji with their class)');
    if (f.negation) cues.push('negation scope (the words after not / no / never / …n\'t up to the next clause punctuation mark or "but" add a negated copy of their unigram)');
    if (f.lexicon) cues.push(`a sentiment lexicon (\`${f.lexicon.file}\`, ${f.lexicon.entries} words; each lexicon word adds its valence bucket, flipped inside a negation scope, and the sentence its bucketed total)`);
    out.push(`Sentiment cues, also hashed features from the same module (settings in \`manifest.json\` → \`featurizer\`, counted ${f.cueWeight ?? f.wordWeight}×): ${cues.join('; ')}.`);
    out.push('');
  }
  out.push(
    'Why: inference is a gather, one small matrix product and a softmax (tens of microseconds through onnxruntime-node on a CPU), ' +
      'training is plain TypeScript SGD that takes seconds to minutes on two cores, so the same code can retrain on a hub from a user\'s corrections; ' +
      'character n-grams carry typos and speech-recogniser spellings to known words. Transformer encoders are more accurate but cost ' +
      'tens of milliseconds and tens of megabytes per utterance on a hub-class CPU.',
  );
  out.push('');
  out.push(`Weights are stored as int8 with one float scale per row and dequantised inside the ONNX graph (Gather int8 rows, Cast, a [1, n] × [n, ${a.dim}] MatMul with the gathered row scales); the output layer stays fp32 (${a.dim} × ${m.labels.length}).`);
  out.push('');
  out.push('## Labels');
  out.push('');
  out.push(`${m.labels.length} labels: ${m.labels.map((l) => `\`${l}\``).join(', ')}.`);
  out.push('');
  out.push('## Training data and licences');
  out.push('');
  out.push('| file | rows | source | licence |');
  out.push('|---|---|---|---|');
  for (const d of m.training.data) out.push(`| ${d.file} | ${d.rows} | ${d.source} | ${d.licence} |`);
  if (f.lexicon) out.push(`| ${f.lexicon.file} (lexicon, shipped in the model directory) | ${f.lexicon.entries} words | ${f.lexicon.source} | ${f.lexicon.licence} |`);
  const unl = m.training.unlabelled as { file: string; rows: number; source: string; licence: string } | null | undefined;
  if (unl) out.push(`| ${unl.file} (unlabelled, self-training) | ${unl.rows} | ${unl.source} | ${unl.licence} |`);
  out.push('');
  out.push('Attribution: HWU64 (Liu et al. 2019, "Benchmarking Natural Language Understanding Services for building Conversational Agents"), SLURP (Bastianelli et al. 2020), MindMeld blueprints (Cisco), SNIPS (Coucke et al. 2018), GoEmotions (Demszky et al. 2020), SemEval 2017 task 4 (Rosenthal et al.), SST (Socher et al. 2013), as applicable to the files above. Each keeps its own licence.');
  out.push('');
  const o = m.training.options as Record<string, unknown> | undefined;
  const slotSeconds = m.training.slotSeconds as number | undefined;
  const ens = o?.ensembleSeeds as number[] | undefined;
  out.push(`Training: ${ens && ens.length > 1 ? `ensemble of ${ens.length} runs (seeds ${ens.join(', ')}, ${o?.dim} dimensions each; logits averaged, joined into one model of ${(o?.dim as number) * ens.length} dimensions before pruning, bias tuning and calibration)` : `seed ${m.training.seed}`}, ${m.training.epochs} epochs${o ? `, lr ${o.lr} (linear decay), label smoothing ${o.labelSmoothing}${o.averageLastEpoch ? '; weights averaged over the steps of the last epoch (Polyak averaging)' : ''}` : ''}; classifier ${m.training.seconds} s${slotSeconds ? `, slot tagger ${slotSeconds} s` : ''} on a shared 2-core machine.`);
  const pl = m.training.pseudoLabelled as number[] | undefined;
  if (pl && pl.length) out.push(`Self-training: ${pl.length} round(s), ${pl.join(' / ')} unlabelled sentences pseudo-labelled.`);
  out.push('');

  out.push('## Compression: fp32 vs int8');
  out.push('');
  const sz = m.metrics.sizeBytes as { classifierFp32: number; classifierInt8: number; slots: number; total: number } | undefined;
  const cmp = m.metrics.fp32VsInt8 as Record<string, { fp32: ClassifierEval; int8: ClassifierEval }> | undefined;
  out.push('| | fp32 | int8 |');
  out.push('|---|---|---|');
  if (sz) out.push(`| classifier size (model.onnx + features.bin${f.lexicon ? ` + ${f.lexicon.file}` : ''}) | ${mb(sz.classifierFp32)} | ${mb(sz.classifierInt8)} |`);
  const heldOut = (m.metrics.heldOut as { fp32VsInt8?: Record<string, { fp32: ClassifierEval; int8: ClassifierEval }> } | undefined)?.fp32VsInt8;
  const rowsOf = { ...(cmp ?? {}), ...Object.fromEntries(Object.entries(heldOut ?? {}).map(([f, c]) => [`${f} (held-out run, same recipe)`, c])) };
  for (const [file, c] of Object.entries(rowsOf)) {
    out.push(`| accuracy on ${file} | ${pct(c.fp32.accuracy)} | ${pct(c.int8.accuracy)} |`);
    out.push(`| macro-F1 on ${file} | ${c.fp32.macro_f1.toFixed(4)} | ${c.int8.macro_f1.toFixed(4)} |`);
    out.push(`| latency p50 (classifier, measured while training) | ${c.fp32.latency_ms.p50.toFixed(3)} ms | ${c.int8.latency_ms.p50.toFixed(3)} ms |`);
  }
  if (sz && sz.slots > 0) out.push(`| slot tagger files (shipped) | | ${mb(sz.slots)} |`);
  if (sz) out.push(`| total shipped | | ${mb(sz.total)} |`);
  out.push('');
  out.push('Latency is measured by `npm run bench:models` (whole pipeline, one utterance at a time); numbers taken while training share the CPU with the trainer and other work, so only their medians are shown here.');
  out.push('');
  out.push(`Pruning: of ${m.training.vocabularyRows as number} hashed ids seen in training, the ${m.training.keptRows as number} rows that move the logits most are kept (importance ‖row · W_out‖); ids outside \`features.bin\` are dropped at inference.`);
  out.push('');
  const prunedAcc = {
    ...((m.training.pruningAccuracy as Record<string, { unpruned: number; pruned: number }> | undefined) ?? {}),
    ...Object.fromEntries(Object.entries((m.metrics.heldOut as { pruning?: Record<string, { unpruned: number; pruned: number }> } | undefined)?.pruning ?? {}).map(([f, v]) => [`${f} (held-out run)`, v])),
  };
  if (Object.keys(prunedAcc).length) {
    out.push('| fp32 accuracy (TypeScript forward pass, before bias tuning) | all rows | pruned |');
    out.push('|---|---|---|');
    for (const [file, v] of Object.entries(prunedAcc)) out.push(`| ${file.split('/').pop()} | ${pct(v.unpruned)} | ${pct(v.pruned)} |`);
    out.push('');
  }
  if (o?.foldOutput && m.architecture.hidden === 0 && m.architecture.dim === m.labels.length - 1) {
    out.push(`Folded output layer: the model was trained with ${o.dim as number} dimensions; the ${o.dim as number} × ${m.labels.length} output layer is folded into the rows, which ship as ${m.architecture.dim} numbers each (the logits' zero-sum plane): the same probabilities in ${m.architecture.dim}/${o.dim as number} of the int8 table.`);
    out.push('');
  }

  out.push('## Calibration');
  out.push('');
  const c = m.calibration;
  out.push(`Temperature scaling: logits / ${c.temperature.toFixed(3)} before the softmax, fit on ${c.fitOn ?? 'dev data'}. Expected calibration error (15 bins): ${c.eceBefore.toFixed(4)} before, ${c.eceAfter.toFixed(4)} after.`);
  if (m.task === 'intent') {
    out.push('');
    out.push(`Suggested \`models.unknownThreshold\`: ${c.threshold}. Below it the intent is reported as \`unknown\` (alternatives are still listed). Text that is empty after normalisation is always \`unknown\` with confidence 0.`);
  }
  out.push('');
  if (x.sections) {
    for (const [title, body] of Object.entries(x.sections)) {
      out.push(`## ${title}`, '', body, '');
    }
  }
  if (x.limits && x.limits.length) {
    out.push('## Limits');
    out.push('');
    for (const l of x.limits) out.push(`- ${l}`);
    out.push('');
  }
  if (x.reproduce) {
    out.push('## Reproduce');
    out.push('');
    out.push('```sh', x.reproduce, '```', '');
  }
  return out.join('\n');
}
