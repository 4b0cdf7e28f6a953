/**
 * Model directories a user may hand hubnlu that are not what their manifest says: each must fail at load, naming the
 * file and the fix, never load and answer wrongly message after message. Real onnxruntime on copies of the shipped
 * model files.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/model/registry.js';
import { defaultModelDir, loadManifest, ManifestError } from '../../src/model/manifest.js';

const root = mkdtempSync(join(tmpdir(), 'hubnlu-hostile-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A copy of a shipped model directory, changed by `mutate`. */
function copyOf(task: 'intent' | 'sentiment', mutate: (dir: string) => void): string {
  const dir = join(root, `${task}-${n++}`);
  cpSync(defaultModelDir(task), dir, { recursive: true });
  mutate(dir);
  return dir;
}

function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): void {
  const file = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(m);
  writeFileSync(file, JSON.stringify(m));
}

test('a manifest whose labels do not match the graph\'s outputs fails at load, naming both counts', async () => {
  const fewer = copyOf('intent', (dir) => editManifest(dir, (m) => (m.labels = (m.labels as string[]).slice(0, -1))));
  await assert.rejects(ModelRegistry.load({ intentDir: fewer, sentimentDir: null }), (e: Error) => {
    assert.match(e.message, /model\.onnx: the graph scores 79 labels but manifest\.json lists 78/);
    assert.match(e.message, /two trainings/);
    return true;
  });
  const more = copyOf('intent', (dir) => editManifest(dir, (m) => (m.labels = [...(m.labels as string[]), 'iot_extra'])));
  await assert.rejects(ModelRegistry.load({ intentDir: more, sentimentDir: null }), /scores 79 labels but manifest\.json lists 80/);
});

test('another model\'s graph in the directory (the sentiment graph as model.onnx of the intent model) fails at load', async () => {
  const mixed = copyOf('intent', (dir) => cpSync(join(defaultModelDir('sentiment'), 'model.onnx'), join(dir, 'model.onnx')));
  await assert.rejects(ModelRegistry.load({ intentDir: mixed, sentimentDir: null }), /model\.onnx: the graph scores 3 labels but manifest\.json lists 79/);
});

test('a damaged ONNX file is named, with the fix, at load', async () => {
  const damaged = copyOf('sentiment', (dir) => {
    const bytes = readFileSync(join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'model.onnx'), bytes.subarray(0, bytes.length >> 1));
  });
  await assert.rejects(ModelRegistry.load({ intentDir: null, sentimentDir: damaged }), (e: Error) => {
    assert.ok(e.message.startsWith(join(damaged, 'model.onnx')), e.message);
    assert.match(e.message, /onnxruntime cannot load it .*copy the whole model directory again or retrain/);
    return true;
  });
});

test('manifest file names that leave the model directory are refused', async () => {
  for (const [field, value] of [
    ['classifier', '../../../../../../etc/hostname'],
    ['features', '/etc/hostname'],
    ['slots', 'sub/../../slots.onnx'],
  ] as const) {
    const dir = copyOf('intent', (d) => editManifest(d, (m) => ((m.files as Record<string, string>)[field] = value)));
    assert.throws(
      () => loadManifest(dir),
      (e: Error) => {
        assert.ok(e instanceof ManifestError);
        assert.match(e.message, new RegExp(`files\\.${field}: .* must name a file inside the model directory`));
        return true;
      },
      `${field} = ${value}`,
    );
  }
  const remap = copyOf('intent', (d) => editManifest(d, (m) => (((m.slots as Record<string, unknown>).files as Record<string, string>).remap = '../../slots.remap')));
  await assert.rejects(ModelRegistry.load({ intentDir: remap, sentimentDir: null }), /`slots\.files\.remap`: "\.\.\/\.\.\/slots\.remap" must name a file inside the model directory/);
  const lexicon = copyOf('sentiment', (d) =>
    editManifest(d, (m) => ((m.featurizer as Record<string, unknown>).lexicon = { file: '../intent-0/manifest.json', entries: 1, source: 'test', licence: 'CC0' })),
  );
  assert.throws(() => loadManifest(lexicon), /featurizer\.lexicon\.file: .* must name a file inside the model directory/);
});
