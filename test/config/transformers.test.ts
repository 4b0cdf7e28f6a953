import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { backendSettings } from '../../src/cli/context.js';

const load = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides: { 'storage.path': '/var/lib/hubnlu/hubnlu.db', ...overrides } }).config;

test('models.transformers: off and empty by default; the download cache sits beside the database', () => {
  const c = load({});
  assert.equal(c.models.transformers.allowDownload, false);
  assert.deepEqual(backendSettings(c).transformers, { allowDownload: false, cacheDir: '/var/lib/hubnlu/transformers', intent: undefined, sentiment: undefined });
});

test('models.transformers.<task> settings validate; slotsFrom resolves; errors name the setting and the fix', () => {
  const c = load({ 'models.transformers': { intent: { task: 'zero-shot-classification', candidateLabels: { a: 'x', b: '' }, slotsFrom: '/models/ner' } } });
  assert.equal(backendSettings(c).transformers?.intent?.slotsFrom, '/models/ner');
  assert.throws(() => load({ 'models.transformers': { intent: { hypothesisTemplate: 'no placeholder' } } }), /models\.transformers\.intent\.hypothesisTemplate.*containing \{\}/s);
  assert.throws(() => load({ 'models.transformers': { sentiment: { task: 'token-classification' } } }), /models\.transformers\.sentiment\.task.*text-classification or zero-shot-classification/s);
  assert.throws(() => load({ 'models.transformers': { intent: { labelmap: {} } } }), /labelmap/);
});
