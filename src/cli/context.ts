/** What every subcommand needs: the validated config, a logger, the models. */
import type { Command } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LANGUAGES, normalizeLang } from '../model/language.js';
import { LanguageRouter, type LanguageModelDirs } from '../model/language-router.js';
import { MANIFEST_FILE } from '../model/manifest.js';
import type { BackendSettings } from '../model/backend.js';
import { HF_REF_PREFIX } from '../model/hf-layout.js';
import type { LoadedModels } from '../agent/agent.js';
import { packageRoot, resolveFromPackage } from '../util/paths.js';
import { CliError, EXIT } from './exit-codes.js';
import { modelStoreFor } from '../learn/live-model.js';

/** Loads the configuration named by the global `--config`, or exits 2 listing every problem. */
export function configFor(command: Command, overrides: Record<string, unknown> = {}): LoadedConfig {
  const globals = command.optsWithGlobals() as { config?: string };
  try {
    return loadConfig({ file: globals.config, overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliError(err.message, EXIT.usage);
    }
    throw err;
  }
}

/** The model loader the agent and the CLI share: one model set per language, behind the language router. */
export async function loadModels(config: Config): Promise<LoadedModels> {
  const m = config.models;
  const router = await LanguageRouter.load({
    languages: languageDirs(config),
    defaultLanguage: m.defaultLanguage,
    langidDir: m.detectLanguage ? resolveFromPackage(m.langid) : null,
    detectThreshold: m.detectThreshold,
    unknownThreshold: m.unknownThreshold,
    backendSettings: backendSettings(config),
    lazy: m.lazyLanguages,
  });
  // The first run of an ONNX session allocates and plans (~10 ms); pay that at start, not on the first utterance.
  for (const lang of router.loadedLanguages) await router.analyze('turn on the light', ['intent', 'sentiment'], { lang, langSource: 'route' });
  await router.analyze('turn on the light', ['intent']);
  return router;
}

/** A model setting as a path: `hf:owner/name` (a hub model, see models.transformers.allowDownload) stays as it is. */
function modelPath(p: string): string {
  return p.startsWith(HF_REF_PREFIX) ? p : resolveFromPackage(p);
}

/** `models.transformers` with its paths resolved (the download cache defaults to `transformers/` beside the database). */
export function backendSettings(config: Config): BackendSettings {
  const t = config.models.transformers;
  const fromCwd = (p: string) => resolveFromPackage(p, { preferCwd: true });
  const db = fromCwd(config.storage.path === ':memory:' ? 'data/hubnlu.db' : config.storage.path);
  const task = (s: typeof t.intent) => (s ? { ...s, ...(s.slotsFrom ? { slotsFrom: modelPath(s.slotsFrom) } : {}) } : undefined);
  return {
    transformers: {
      allowDownload: t.allowDownload,
      cacheDir: t.cacheDir ? fromCwd(t.cacheDir) : join(dirname(db), 'transformers'),
      intent: task(t.intent),
      sentiment: task(t.sentiment),
    },
  };
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
