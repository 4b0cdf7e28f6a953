import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendFor, loadTaskModel } from '../../src/model/backends.js';
import { defaultModelDir } from '../../src/model/manifest.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { tokenize } from '../../src/model/text.js';

test('the shipped model directories load through the fasttext-onnx backend', async () => {
  assert.equal(backendFor(defaultModelDir('intent')).name, 'fasttext-onnx');
  const model = await loadTaskModel('intent', defaultModelDir('intent'));
  try {
    assert.equal(model.task, 'intent');
    assert.equal(model.hasSlots, true);
    const text = 'turn off the kitchen lights';
    const ranked = await model.classify({ text, tokens: tokenize(text) });
    assert.equal(ranked.length, model.labels.length);
    assert.equal(ranked[0].name, 'iot_hue_lightoff');
    const total = ranked.reduce((s, r) => s + r.confidence, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
    const slots = await model.tagSlots!({ text, tokens: tokenize(text) }, 'iot_hue_lightoff');
    assert.deepEqual(slots.map((s) => [s.type, s.raw]), [['house_place', 'kitchen']]);
  } finally {
    await model.dispose();
    await model.dispose();
  }
});

test('a directory no backend recognises is refused with what each backend expects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-nobackend-'));
  try {
    assert.throws(() => backendFor(dir), /not a model directory hubnlu can load; expected a directory holding manifest.json/);
    assert.throws(() => backendFor(dir, 'nope'), /unknown model backend "nope"; use one of fasttext-onnx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sentiment directory configured as the intent model is refused by name', async () => {
  await assert.rejects(ModelRegistry.load({ intentDir: defaultModelDir('sentiment'), sentimentDir: null }), /manifest.json says task "sentiment", but it is configured as the intent model/);
});
