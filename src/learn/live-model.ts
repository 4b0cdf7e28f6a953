/**
 * Which models are live: the promoted household version in the model store, else the configured (shipped) one; and
 * which model directories each language uses. The agent, the language router's options and the CLI's commands all
 * read them from here (not from src/cli: the agent must not depend on the command line).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { HF_REF_PREFIX } from '../model/hf-layout.js';
import { LANGUAGES, normalizeLang } from '../model/language-tags.js';
import type { LanguageModelDirs } from '../model/language-router.js';
import { MANIFEST_FILE } from '../model/manifest.js';
import { packageRoot, resolveFromPackage } from '../util/paths.js';
import { ModelStore } from './model-store.js';

export function modelStoreFor(config: Config): ModelStore {
  return new ModelStore(resolveFromPackage(config.learning.modelsDir, { preferCwd: true }));
}

/** The live intent model directory: the promoted household version, else models.intent. */
export function liveIntentDir(config: Config, store: ModelStore = modelStoreFor(config)): string {
  return store.currentDir('intent') ?? resolveFromPackage(config.models.intent);
}

/** A model setting as a path: `hf:owner/name` (a hub model, see models.transformers.allowDownload) stays as it is. */
export function modelPath(p: string): string {
  return p.startsWith(HF_REF_PREFIX) ? p : resolveFromPackage(p);
}

/**
 * `models.languages`, or the defaults: English from models.intent /
 * models.sentiment, plus each shipped `models/<lang>/{intent,sentiment}` that
 * exists. An explicit `models.languages` without English keeps models.intent /
 * models.sentiment for it.
 */
export function languageDirs(config: Config): Record<string, LanguageModelDirs> {
  const m = config.models;
  const out: Record<string, LanguageModelDirs> = {};
  const configured = m.languages ?? null;
  const hasEnglish = configured !== null && Object.keys(configured).some((k) => normalizeLang(k) === 'en');
  // English intent: the household's promoted version (learning.modelsDir) when there is one.
  if (!hasEnglish) out.en = { intent: modelStoreFor(config).currentDir('intent') ?? modelPath(m.intent), sentiment: modelPath(m.sentiment) };
  if (configured) {
    for (const [lang, d] of Object.entries(configured)) {
      out[lang] = { intent: d.intent ? modelPath(d.intent) : null, sentiment: d.sentiment ? modelPath(d.sentiment) : null };
    }
    return out;
  }
  for (const lang of LANGUAGES) {
    if (lang === 'en') continue;
    const dir = (task: string): string | null => {
      const d = join(packageRoot(), 'models', lang, task);
      return existsSync(join(d, MANIFEST_FILE)) ? d : null;
    };
    const d = { intent: dir('intent'), sentiment: dir('sentiment') };
    if (d.intent || d.sentiment) out[lang] = d;
  }
  return out;
}
