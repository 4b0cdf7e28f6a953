/**
 * A separate process that stores model versions the way a retrain does (`learn()` in
 * src/learn/learning-loop.ts): stage, take a version number, write the model (its manifest
 * carries that number), store it. Used to run two "retrains" at once on one model store.
 * Run: `node store-writer.js <modelsDir> <count> <goFile> [promote]`: waits until <goFile> exists
 * (so that all writers start together), then prints one JSON line per version:
 * `{"version", "manifestVersion"}` or `{"error"}`. With `promote`, makes each version live too
 * (as `hubnlu models promote` does).
 * Not a test file: test/learn/model-store.test.ts starts it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelStore } from '../../src/learn/model-store.js';

const [root, count, go, promote] = process.argv.slice(2);
if (!root || !count || !go) {
  process.stderr.write('usage: store-writer <modelsDir> <count> <goFile>\n');
  process.exit(2);
}
const store = new ModelStore(root);
while (!existsSync(go)) {
  // spin: the writers start within a millisecond of each other
}
for (let i = 0; i < Number(count); i++) {
  try {
    const staged = store.stage('intent');
    const version = store.claim('intent');
    writeFileSync(join(staged, 'manifest.json'), JSON.stringify({ version }));
    const stored = store.add('intent', staged, {
      parent: 'shipped',
      data: { sources: {}, householdLabels: {}, heldOutRows: 0 },
      metrics: {},
      checks: { passed: true, reasons: [] },
      trainingSeconds: 0,
    }, version);
    if (promote === 'promote') store.promote('intent', stored.version);
    process.stdout.write(`${JSON.stringify({ version: stored.version, manifestVersion: version, pid: process.pid })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message, pid: process.pid })}\n`);
  }
}
