/**
 * Hugging Face model directories the project makes itself (no model hub is
 * reachable here): a WordPiece `tokenizer.json` + `tokenizer_config.json`
 * over a small word list, a `config.json` (BERT, `id2label`/`label2id`), and
 * `onnx/model.onnx` from the BERT graph builder (src/train/bert-graph.ts).
 *
 * Weights are seeded random. A token-classification model can be given
 * `tagWords` (word → BIO label): the word embeddings are then scaled up and
 * the classifier points at them, so a word's tag follows the word through the
 * residual stream, as a trained tagger's would (tests get real slots, not noise).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERT_TINY, buildBertGraph, randomBertWeights, type BertShape, type BertWeights } from '../../src/train/bert-graph.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const PAD = 0;
export const UNK = 1;
export const CLS = 2;
export const SEP = 3;

/** The fixture vocabulary: home-automation and sentiment words, digits, punctuation, a few suffix pieces. */
export const TINY_WORDS: readonly string[] = [
  ...'turn on off the light lights in kitchen living room bedroom bathroom hallway garage set to degrees percent please play music what is weather today tomorrow i love hate this it great terrible okay movie a and of for my dim brightness temperature heating open close blinds door lock front at wake me up alarm timer minutes red blue green colour fan tv news good bad not very was are you how make warmer cooler example about query statement device place lamp'.split(' '),
  ...'0123456789'.split(''),
  '.', ',', '?', '!', "'",
  '##s', '##ing', '##ed', '##er', '##ly',
];

export type TinyBertKind = 'sequence-classification' | 'token-classification';

export interface TinyBertOptions {
  readonly kind: TinyBertKind;
  /** id2label, in id order. */
  readonly labels: readonly string[];
  /** Overrides of the BERT_TINY shape (vocab is the word list's size, padded to `shape.vocab`). */
  readonly shape?: Partial<Omit<BertShape, 'numLabels' | 'head'>>;
  readonly seed?: number;
  /** Token classification: the label each listed word gets (others get `O`, which must be a label). */
  readonly tagWords?: Readonly<Record<string, string>>;
  /** Multiplies the (random) classifier weights so probabilities are not all alike (default 60). */
  readonly logitScale?: number;
  /** Which ONNX file to write: `model.onnx` (default) or `model_quantized.onnx`. */
  readonly onnxFile?: 'model.onnx' | 'model_quantized.onnx';
  /** Leave these files out (tests of the errors). */
  readonly omit?: readonly string[];
}

export interface TinyBert {
  readonly dir: string;
  readonly vocab: ReadonlyMap<string, number>;
  readonly shape: BertShape;
  readonly weights: BertWeights;
  readonly onnxPath: string;
}

export function tinyVocab(size: number): Map<string, number> {
  const tokens = [...SPECIAL_TOKENS, ...TINY_WORDS];
  if (tokens.length > size) throw new RangeError(`the fixture vocabulary has ${tokens.length} tokens; shape.vocab must be at least that`);
  for (let i = tokens.length; i < size; i++) tokens.push(`[unused${i}]`);
  return new Map(tokens.map((t, i) => [t, i]));
}

/**
 * The ids BERT's tokenizer gives text made of whole vocabulary words separated
 * by spaces (the tests' reference, computed without the library).
 */
export function wordIds(vocab: ReadonlyMap<string, number>, text: string): number[] {
  const ids = [CLS];
  for (const w of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const id = vocab.get(w);
    if (id === undefined) throw new Error(`"${w}" is not a fixture word; wordIds() only encodes whole words`);
    ids.push(id);
  }
  ids.push(SEP);
  return ids;
}

function tokenizerJson(vocab: ReadonlyMap<string, number>, maxLength: number): object {
  const special = (t: string) => ({ id: vocab.get(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tok = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } });
  const seq = (s: 'A' | 'B', typeId: number) => ({ Sequence: { id: s, type_id: typeId } });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [CLS], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [SEP], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/** Points the token classifier at the tagged words' embeddings (see the file comment). */
function steerTokenHead(shape: BertShape, w: BertWeights, vocab: ReadonlyMap<string, number>, labels: readonly string[], tagWords: Readonly<Record<string, string>>): void {
  const h = shape.hidden;
  const emb = w.get('embeddings.word_embeddings.weight')!;
  for (let i = 0; i < emb.length; i++) emb[i] *= 8;
  const cls = w.get('classifier.weight')!; // [hidden, labels] (MatMul)
  const bias = w.get('classifier.bias')!;
  cls.fill(0);
  bias.fill(0);
  const o = labels.indexOf('O');
  if (o < 0) throw new Error('tagWords needs an "O" label');
  // Tagged words score about 4·√hidden on their label; others stay near 0 ± 4·√(words per label).
  bias[o] = 2 * Math.sqrt(h);
  for (const [word, label] of Object.entries(tagWords)) {
    const id = vocab.get(word);
    const j = labels.indexOf(label);
    if (id === undefined || j < 0) throw new Error(`tagWords: ${word} → ${label}: unknown word or label`);
    const row = emb.subarray(id * h, (id + 1) * h);
    let mean = 0;
    for (const v of row) mean += v / h;
    let norm = 0;
    for (const v of row) norm += (v - mean) ** 2;
    norm = Math.sqrt(norm);
    for (let k = 0; k < h; k++) cls[k * labels.length + j] += ((row[k] - mean) / norm) * 4;
  }
}

/** Writes a Hugging Face layout model directory into `dir` (created). */
export function writeTinyBert(dir: string, opts: TinyBertOptions): TinyBert {
  const base = { ...BERT_TINY, ...opts.shape };
  const vocab = tinyVocab(base.vocab);
  const shape: BertShape = { ...base, vocab: vocab.size, numLabels: opts.labels.length, head: opts.kind };
  const weights = randomBertWeights(shape, { seed: opts.seed ?? 7 });
  if (opts.tagWords) steerTokenHead(shape, weights, vocab, opts.labels, opts.tagWords);
  else {
    // BERT's init (std 0.02) gives logits near 0, i.e. near-uniform probabilities; spread them so labels differ.
    for (const name of ['classifier.weight', 'classifier.bias']) weights.get(name)!.forEach((v, i, a) => (a[i] = v * (opts.logitScale ?? 60)));
  }
  const omit = new Set(opts.omit ?? []);
  const put = (name: string, data: string | Uint8Array): void => {
    if (!omit.has(name)) writeFileSync(join(dir, name), data);
  };
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const id2label = Object.fromEntries(opts.labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(opts.labels.map((l, i) => [l, i]));
  put(
    'config.json',
    JSON.stringify(
      {
        architectures: [opts.kind === 'sequence-classification' ? 'BertForSequenceClassification' : 'BertForTokenClassification'],
        model_type: 'bert',
        vocab_size: shape.vocab,
        hidden_size: shape.hidden,
        num_hidden_layers: shape.layers,
        num_attention_heads: shape.heads,
        intermediate_size: shape.intermediate,
        max_position_embeddings: shape.maxPositions,
        type_vocab_size: shape.typeVocab ?? 2,
        hidden_act: 'gelu',
        layer_norm_eps: 1e-12,
        pad_token_id: PAD,
        id2label,
        label2id,
      },
      null,
      2,
    ),
  );
  put('tokenizer.json', JSON.stringify(tokenizerJson(vocab, shape.maxPositions)));
  put(
    'tokenizer_config.json',
    JSON.stringify({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: shape.maxPositions,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
    }),
  );
  const onnxFile = opts.onnxFile ?? 'model.onnx';
  put(`onnx/${onnxFile}`, buildBertGraph(shape, weights));
  return { dir, vocab, shape, weights, onnxPath: join(dir, 'onnx', onnxFile) };
}

/** Logits computed directly with onnxruntime-node (hubnlu's OnnxModel), no padding: the tests' reference. */
export async function directLogits(onnxPath: string, ids: readonly number[], typeIds?: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const { OnnxModel } = await import('../../src/model/onnx-backend.js');
  const m = await OnnxModel.load(onnxPath);
  try {
    const n = ids.length;
    const i64 = (xs: readonly number[]) => ({ type: 'int64' as const, data: BigInt64Array.from(xs.map(BigInt)), dims: [1, n] });
    const out = await m.run({ input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), token_type_ids: i64(typeIds ?? ids.map(() => 0)) });
    return out.logits;
  } finally {
    await m.dispose();
  }
}

/** Softmax in float64. */
export function softmaxRef(xs: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(xs));
  const e = Array.from(xs, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The standard fixtures: a 3-label sentiment model, an NLI model, a slot tagger (room, device). */
export function writeFixtureSet(root: string): { sentiment: TinyBert; nli: TinyBert; slots: TinyBert } {
  return {
    sentiment: writeTinyBert(join(root, 'sentiment'), { kind: 'sequence-classification', labels: ['NEGATIVE', 'NEUTRAL', 'POSITIVE'] }),
    nli: writeTinyBert(join(root, 'nli'), { kind: 'sequence-classification', labels: ['contradiction', 'neutral', 'entailment'], seed: 3 }),
    slots: writeTinyBert(join(root, 'slots'), {
      kind: 'token-classification',
      labels: ['O', 'B-room', 'I-room', 'B-device', 'I-device'],
      seed: 5,
      shape: { hidden: 128, heads: 4, intermediate: 128 },
      tagWords: { kitchen: 'B-room', living: 'B-room', bedroom: 'B-room', bathroom: 'B-room', room: 'I-room', light: 'B-device', lights: 'B-device', lamp: 'B-device', fan: 'B-device', tv: 'B-device' },
    }),
  };
}
