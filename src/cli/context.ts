/** What every subcommand needs: the validated config, a logger, the models. */
import type { Command } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGES, normalizeLang } from '../model/language.js';
import { LanguageRouter, type LanguageModelDirs } from '../model/language-router.js';
import { MANIFEST_FILE } from '../model/manifest.js';
import type { LoadedModels } from '../agent/agent.js';
import { packageRoot, resolveFromPackage } from '../util/paths.js';
import { CliError, EXIT } from './exit-codes.js';

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
    lazy: m.lazyLanguages,
  });
  // The first run of an ONNX session allocates and plans (~10 ms); pay that at start, not on the first utterance.
  for (const lang of router.loadedLanguages) await router.analyze('turn on the light', ['intent', 'sentiment'], { lang, langSource: 'route' });
  await router.analyze('turn on the light', ['intent']);
  return router;
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
  if (!hasEnglish) out.en = { intent: resolveFromPackage(m.intent), sentiment: resolveFromPackage(m.sentiment) };
  if (configured) {
    for (const [lang, d] of Object.entries(configured)) {
      out[lang] = { intent: d.intent ? resolveFromPackage(d.intent) : null, sentiment: d.sentiment ? resolveFromPackage(d.sentiment) : null };
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
