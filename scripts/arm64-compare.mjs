// Analyses every text of bench/fixtures/langid-commands.jsonl (200 short commands in five languages) with the
// shipped models and prints one JSON line each: language, intent, alternatives, slots, sentiment. Run by
// scripts/arm64-check.sh on the host (x64) and under qemu (arm64); the two outputs must be identical.
import { readFileSync } from 'node:fs';
import { loadConfig } from '../dist/src/config/load.js';
import { loadModels } from '../dist/src/cli/context.js';

const { config } = loadConfig({ env: {} });
const models = await loadModels(config);
const lines = readFileSync(new URL('../bench/fixtures/langid-commands.jsonl', import.meta.url), 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
  const { text } = JSON.parse(line);
  const a = await models.analyze(text, ['intent', 'sentiment']);
  process.stdout.write(JSON.stringify({ text, lang: a.lang, intent: a.intent, alternatives: a.alternatives, slots: a.slots, sentiment: a.sentiment }) + '\n');
}
await models.close();
