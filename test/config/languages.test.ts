/** The language settings: defaults, which model directories each language gets, and errors that name the setting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { languageDirs } from '../../src/learn/live-model.js';
import { packageRoot } from '../../src/util/paths.js';

const cwd = mkdtempSync(join(tmpdir(), 'hubnlu-langcfg-'));
const load = (overrides: Record<string, unknown> = {}, env: Record<string, string> = {}) => loadConfig({ env, cwd, overrides }).config;

test('defaults: English from models.intent / models.sentiment, each shipped models/<lang> that exists, detection on', () => {
  const config = load();
  assert.equal(config.models.defaultLanguage, 'en');
  assert.equal(config.models.detectLanguage, true);
  assert.equal(config.models.langid, 'models/langid');
  assert.equal(config.models.detectThreshold, undefined);
  const dirs = languageDirs(config);
  assert.deepEqual(dirs.en, { intent: join(packageRoot(), 'models', 'intent'), sentiment: join(packageRoot(), 'models', 'sentiment') });
  for (const lang of ['de', 'fr', 'es', 'zh-cn']) {
    const shipped = existsSync(join(packageRoot(), 'models', lang, 'intent', 'manifest.json'));
    assert.equal(lang in dirs, shipped || existsSync(join(packageRoot(), 'models', lang, 'sentiment', 'manifest.json')), lang);
  }
});

test('models.languages replaces the discovered languages; English stays on models.intent unless named', () => {
  const config = load({}, { HUBNLU_MODELS_LANGUAGES: JSON.stringify({ 'de-DE': { intent: '/x/de-intent' } }) });
  const dirs = languageDirs(config);
  assert.deepEqual(Object.keys(dirs).sort(), ['de-DE', 'en']);
  assert.deepEqual(dirs['de-DE'], { intent: '/x/de-intent', sentiment: null });
  const own = languageDirs(load({ 'models.languages': { EN: { intent: '/x/en' } } }));
  assert.deepEqual(Object.keys(own), ['EN'], 'an explicit English entry replaces models.intent / models.sentiment');
});

test('bad language settings name the setting', () => {
  const bad = (overrides: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => load(overrides), (e: Error) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(overrides));
  bad({ 'models.languages': { 'not a tag': { intent: 'x' } } }, /models\.languages/);
  bad({ 'models.languages': { de: { intent: 'x', extra: 1 } } }, /models\.languages/);
  bad({ 'models.defaultLanguage': 'english!' }, /models\.defaultLanguage/);
  bad({ 'models.detectThreshold': 2 }, /models\.detectThreshold/);
  bad({ 'input.topics': [{ topic: 'hubnlu/+/utterance', lang: 'de DE' }] }, /input\.topics/);
  const ok = load({ 'input.topics': [{ topic: 'hubnlu/+/utterance', lang: 'zh-CN' }] });
  assert.equal(ok.input.topics[0].lang, 'zh-CN');
});
