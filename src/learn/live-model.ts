/** Which intent model is live: the promoted household version in the model store, else the configured (shipped) one. */
import type { Config } from '../config/schema.js';
import { resolveFromPackage } from '../util/paths.js';
import { ModelStore } from './model-store.js';

export function modelStoreFor(config: Config): ModelStore {
  return new ModelStore(resolveFromPackage(config.learning.modelsDir, { preferCwd: true }));
}

/** The live intent model directory: the promoted household version, else models.intent. */
export function liveIntentDir(config: Config, store: ModelStore = modelStoreFor(config)): string {
  return store.currentDir('intent') ?? resolveFromPackage(config.models.intent);
}
