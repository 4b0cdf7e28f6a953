/**
 * The shipped models' backend: hashed n-gram features → int8 embedding bag →
 * linear layer in ONNX (TextClassifier), plus the slot tagger for intent
 * models that carry one. A directory of this backend holds `manifest.json`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, PreparedText, TaskModel } from './backend.js';
import { TextClassifier } from './classifier.js';
import { checkManifestTask, loadManifest } from './manifest.js';
import { mixtureParts, SlotTagger } from './slot-tagger.js';
import type { ModelRef, ScoredLabel, SlotResult, TaskName } from './types.js';

export class FastTextTaskModel implements TaskModel {
  private constructor(
    readonly task: TaskName,
    readonly classifier: TextClassifier,
    private readonly slots: SlotTagger | null,
  ) {}

  static async load(task: TaskName, dir: string): Promise<FastTextTaskModel> {
    const manifest = loadManifest(dir);
    checkManifestTask(dir, manifest, task);
    const classifier = await TextClassifier.load(dir, manifest);
    let slots: SlotTagger | null = null;
    if (task === 'intent' && manifest.files.slots) {
      try {
        slots = await SlotTagger.load(dir, manifest);
      } catch (err) {
        await classifier.dispose();
        throw err;
      }
    }
    return new FastTextTaskModel(task, classifier, slots);
  }

  get ref(): ModelRef {
    return this.classifier.ref;
  }

  get labels(): readonly string[] {
    return this.classifier.labels;
  }

  get recommendedThreshold(): number | undefined {
    return this.task === 'intent' ? this.classifier.manifest.calibration.threshold : undefined;
  }

  get hasSlots(): boolean {
    return this.slots !== null;
  }

  async classify(input: PreparedText, top?: number): Promise<readonly ScoredLabel[]> {
    return (await this.classifier.classify(input.tokens, input.text, top)).ranked;
  }

  async classifyMany(inputs: readonly PreparedText[], top?: number): Promise<ReadonlyArray<readonly ScoredLabel[]>> {
    return (await this.classifier.classifyMany(inputs, top)).map((c) => c.ranked);
  }

  async tagSlotsMany(inputs: readonly PreparedText[], intents: ReadonlyArray<string | null>, rankings?: ReadonlyArray<readonly ScoredLabel[]>): Promise<SlotResult[][]> {
    if (!this.slots) return inputs.map(() => []);
    const mixture = this.slots.intentMixture;
    if (mixture && rankings) return this.slots.tagMixtures(inputs.map((x, i) => ({ text: x.text, tokens: x.tokens, parts: mixtureParts(rankings[i], mixture) })));
    return this.slots.tagMany(inputs.map((x, i) => ({ text: x.text, tokens: x.tokens, intent: intents[i] })));
  }

  async tagSlots(input: PreparedText, intent: string | null, ranking?: readonly ScoredLabel[]): Promise<SlotResult[]> {
    if (!this.slots || input.tokens.length === 0) return [];
    const mixture = this.slots.intentMixture;
    if (mixture && ranking) return (await this.slots.tagMixtures([{ text: input.text, tokens: input.tokens, parts: mixtureParts(ranking, mixture) }]))[0];
    return this.slots.tag(input.text, input.tokens, intent);
  }

  async dispose(): Promise<void> {
    const all = [this.classifier, this.slots].filter((m): m is NonNullable<typeof m> => m !== null);
    await Promise.allSettled(all.map((m) => m.dispose()));
  }
}

export const fastTextBackend: Backend = {
  name: 'fasttext-onnx',
  expects: 'a directory holding manifest.json (trained by `hubnlu train`)',
  recognizes: (dir) => existsSync(join(dir, 'manifest.json')),
  load: (task, dir) => FastTextTaskModel.load(task, dir),
};
