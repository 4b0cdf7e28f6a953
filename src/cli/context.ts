/** What every subcommand needs: the validated config, a logger, the models. */
import type { Command } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
// The router (and onnxruntime) are imported where models load: with models.thread worker the agent's own thread never needs them.
import type { RouterOptions } from '../model/language-router.js';
import type { WorkerAnalyzerEvent } from '../model/worker-analyzer.js';
import type { BackendSettings } from '../model/backend.js';
import { isHfLayout } from '../model/hf-layout.js';
import type { LoadedModels } from '../agent/agent.js';
import { resolveFromPackage } from '../util/paths.js';
import { CliError, EXIT } from './exit-codes.js';
import { languageDirs, modelPath } from '../learn/live-model.js';

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

/** The model loader the CLI's one-shot commands share: one model set per language, behind the language router, on this thread. */
export async function loadModels(config: Config): Promise<LoadedModels> {
  const { LanguageRouter } = await import('../model/language-router.js');
  const router = await LanguageRouter.load(routerOptions(config));
  await router.warmUp();
  return router;
}

/** The language router's options from the config (plain data: a worker thread gets them as they are). */
export function routerOptions(config: Config): RouterOptions {
  const m = config.models;
  return {
    languages: languageDirs(config),
    defaultLanguage: m.defaultLanguage,
    langidDir: m.detectLanguage ? resolveFromPackage(m.langid) : null,
    detectThreshold: m.detectThreshold,
    unknownThreshold: m.unknownThreshold,
    backendSettings: backendSettings(config),
    lazy: m.lazyLanguages,
  };
}

/**
 * Where `models.thread` puts the live models on a machine with `cores` cores. `auto`: a worker when a live model
 * is a transformer (tens of milliseconds a call, which would hold up MQTT and SQLite) and there are 2 cores or more;
 * else the main thread, since the shipped models cost ~0.1 ms a message there and a thread costs 15-20 MB of RSS
 * for about the same whole-agent CPU (docs/performance.md: The models on a worker thread).
 */
export function modelThread(config: Config, cores: number = availableParallelism()): 'main' | 'worker' {
  const t = config.models.thread;
  if (t !== 'auto') return t;
  if (cores < 2) return 'main';
  const dirs = Object.values(languageDirs(config)).flatMap((d) => [d.intent, d.sentiment]);
  return dirs.some((d) => d !== null && isHfLayout(d)) ? 'worker' : 'main';
}

/** The live model thread's V8 old generation (the sessions and feature remaps live outside it): tokens and answers. */
const LIVE_THREAD_HEAP_MB = 96;

/**
 * The agent's model loader: `loadModels` on the main thread, or the same router in a worker thread (`models.thread`,
 * see modelThread). `onEvent` hears the worker's crashes, restarts and give-up.
 */
export async function loadLiveModels(config: Config, onEvent?: (event: WorkerAnalyzerEvent) => void): Promise<LoadedModels> {
  if (modelThread(config) === 'main') return loadModels(config);
  const { WorkerAnalyzer } = await import('../model/worker-analyzer.js');
  return WorkerAnalyzer.start({
    models: { kind: 'router', options: routerOptions(config), warmUp: true },
    resourceLimits: { maxOldGenerationSizeMb: LIVE_THREAD_HEAP_MB },
    // At stop the agent has finished its inputs: a thread slow to dispose is ended rather than waited for.
    closeTimeoutMs: 1000,
    onEvent,
  });
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
