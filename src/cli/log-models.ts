/**
 * The models `hubnlu eval --from-log` and `hubnlu report` score the log with,
 * and how the log's rows meet them (src/eval/from-log.ts): one rule for both
 * commands, so their figures agree.
 *
 * - `--model DIR`: that directory, read as its manifest's language (or
 *   `--lang`); rows logged in other languages are left out and counted.
 * - `--lang TAG` (eval): the model configured for that language, likewise.
 * - neither: the configured models exactly as the agent loads them (the
 *   language router, with the household's promoted version), each row read in
 *   the language it was logged in.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { LoadedModels } from '../agent/agent.js';
import type { LogLanguage } from '../eval/from-log.js';
import { normalizeLang } from '../model/language.js';
import { loadManifest, WrongTaskError } from '../model/manifest.js';
import { ModelRegistry } from '../model/registry.js';
import type { TaskName } from '../model/tasks.js';
import { CliError, EXIT } from './exit-codes.js';
import { languageDirs } from '../learn/live-model.js';
import { backendSettings, loadModels } from './context.js';

export interface LogModelChoice {
  readonly model?: string;
  readonly lang?: string;
  readonly threshold?: number;
}

export interface LogModels {
  readonly analyzer: LoadedModels;
  readonly language: LogLanguage;
  /** The model directory, when one was chosen (not the router). */
  readonly dir?: string;
}

/** The directory `--model` / `--lang` name, or null for the configured models (the router). */
export function logModelDir(config: Config, task: TaskName, choice: LogModelChoice): string | null {
  if (choice.model !== undefined) return resolve(choice.model);
  if (choice.lang === undefined) return null;
  const lang = normalizeLang(choice.lang);
  if (!lang) throw new CliError(`--lang: ${JSON.stringify(choice.lang)} is not a language tag; use e.g. de or zh-CN`, EXIT.usage);
  const dirs = Object.entries(languageDirs(config)).find(([k]) => normalizeLang(k) === lang)?.[1];
  const chosen = dirs?.[task];
  if (!chosen) throw new CliError(`no ${task} model for language ${lang}: set models.languages.${lang}.${task} in the config, or pass --model DIR`, EXIT.usage);
  return chosen;
}

/** The language a model directory reads (`--lang` wins), for the row rule. */
export function modelLanguage(dir: string, lang: string | undefined): LogLanguage {
  if (lang !== undefined) return { route: false, language: normalizeLang(lang) ?? lang };
  try {
    return { route: false, language: normalizeLang(loadManifest(dir).language) ?? null };
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.failure);
  }
}

/**
 * A model that does not load, as a CliError (exit 1) with the reason. `option` names the command-line option the
 * directory came from (`--model`), for the message to name it rather than the configuration setting.
 */
export function modelLoadError(err: unknown, option?: string): CliError {
  if (err instanceof CliError) return err;
  return new CliError(err instanceof WrongTaskError && option !== undefined ? err.forOption(option) : (err as Error).message, EXIT.failure);
}

/** Loads what `choice` names; a model that does not load exits 1 with the reason. */
export async function loadLogModels(config: Config, task: TaskName, choice: LogModelChoice): Promise<LogModels> {
  const dir = logModelDir(config, task, choice);
  try {
    if (dir === null) {
      const models = choice.threshold === undefined ? config.models : { ...config.models, unknownThreshold: choice.threshold };
      return { analyzer: await loadModels({ ...config, models }), language: { route: true } };
    }
    const language = modelLanguage(dir, choice.lang);
    const analyzer = await ModelRegistry.load({
      intentDir: task === 'intent' ? dir : null,
      sentimentDir: task === 'sentiment' ? dir : null,
      unknownThreshold: choice.threshold,
      backendSettings: backendSettings(config),
    });
    return { analyzer, language, dir };
  } catch (err) {
    throw modelLoadError(err, choice.model !== undefined ? '--model' : undefined);
  }
}
