/**
 * What the configured models can produce, read from their manifests (no model
 * is loaded): the intents and slot types a label is checked against, by
 * `hubnlu label`, `hubnlu review` and the agent's bridge `label` request.
 */
import { loadManifest } from '../model/manifest.js';
import type { Config } from '../config/schema.js';
import type { LabelVocabulary } from '../data/label-check.js';
import { languageDirs } from './live-model.js';

export function vocabularyFromConfig(config: Config, loggedIntents?: ReadonlySet<string>): LabelVocabulary {
  const intents = new Set<string>();
  const slotTypes = new Set<string>();
  for (const dirs of Object.values(languageDirs(config))) {
    if (!dirs.intent) continue;
    try {
      const m = loadManifest(dirs.intent);
      for (const l of m.labels) intents.add(l);
      const types = (m.slots as { types?: unknown } | undefined)?.types;
      if (Array.isArray(types)) for (const t of types) if (typeof t === 'string') slotTypes.add(t);
    } catch {
      // A language whose model is missing has nothing to add; `hubnlu run` reports it.
    }
  }
  return { intents, slotTypes, loggedIntents };
}
