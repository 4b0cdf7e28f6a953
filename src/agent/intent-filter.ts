/**
 * Hermes `intentFilter`: the caller allows only these intents. The best allowed
 * alternative wins if it is confident enough; otherwise the answer is `unknown`
 * (Rhasspy then publishes intentNotRecognized).
 */
import { UNKNOWN_INTENT, type IntentResult } from '../model/types.js';

export function applyIntentFilter(intent: IntentResult, filter: readonly string[], threshold = 0): IntentResult {
  if (intent.name === UNKNOWN_INTENT || filter.includes(intent.name)) return intent;
  const allowed = intent.alternatives.filter((a) => filter.includes(a.name));
  const best = allowed[0];
  if (best && best.confidence >= threshold) {
    // Slots were tagged for the rejected intent; they still describe the text, so keep them.
    return { ...intent, name: best.name, confidence: best.confidence };
  }
  return { ...intent, name: UNKNOWN_INTENT, confidence: best?.confidence ?? 0 };
}
