/** What every subcommand needs: the validated config, a logger, the models. */
import type { Command } from 'commander';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ModelRegistry } from '../model/registry.js';
import type { LoadedModels } from '../agent/agent.js';
import { resolveFromPackage } from '../util/paths.js';
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

/** The model loader the agent and the CLI share. */
export async function loadModels(config: Config): Promise<LoadedModels> {
  const registry = await ModelRegistry.load({
    intentDir: resolveFromPackage(config.models.intent),
    sentimentDir: resolveFromPackage(config.models.sentiment),
    unknownThreshold: config.models.unknownThreshold,
  });
  // The first run of an ONNX session allocates and plans (~10 ms); pay that at start, not on the first utterance.
  await registry.analyze('turn on the light', ['intent', 'sentiment']);
  return registry;
}
