/**
 * The shipped non-English models (models/<lang>/intent, models/<lang>/sentiment; issue 11) load through the
 * same registry and manifest code as the English ones and get the acceptance sentences right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/model/registry.js';
import { loadManifest } from '../../src/model/manifest.js';
import { packageRoot } from '../../src/util/paths.js';
import { LANGUAGES } from '../../src/train/languages.js';

const dir = (lang: string, task: string): string => join(packageRoot(), 'models', lang, task);

async function withModels<T>(lang: string, fn: (reg: ModelRegistry) => Promise<T>): Promise<T> {
  const reg = await ModelRegistry.load({ intentDir: dir(lang, 'intent'), sentimentDir: dir(lang, 'sentiment') });
  try {
    return await fn(reg);
  } finally {
    await reg.close();
  }
}

test('every language model is int8, says its language, and stays near 1.5 MB', () => {
  for (const lang of LANGUAGES) {
    for (const task of ['intent', 'sentiment'] as const) {
      const d = dir(lang, task);
      const m = loadManifest(d);
      assert.equal(m.task, task);
      assert.equal(m.language, lang);
      assert.equal(m.architecture.precision, 'int8');
      let bytes = statSync(join(d, m.files.classifier)).size + statSync(join(d, m.files.features)).size;
      if (m.featurizer.lexicon) bytes += statSync(join(d, m.featurizer.lexicon.file)).size;
      if (m.slots) for (const f of Object.values((m.slots as { files: Record<string, string> }).files)) bytes += statSync(join(d, f)).size;
      assert.ok(bytes <= 1.6e6, `${lang}/${task}: ${bytes} bytes`);
      if (task === 'intent') assert.ok(m.labels.includes('unknown') && m.labels.includes('iot_hue_lightoff'));
    }
  }
});

test('German: "mach das licht im wohnzimmer aus" → iot_hue_lightoff, house_place wohnzimmer', async () => {
  await withModels('de', async (reg) => {
    const a = await reg.analyze('mach das licht im wohnzimmer aus', ['intent']);
    assert.equal(a.intent?.name, 'iot_hue_lightoff', JSON.stringify(a.intent));
    const place = a.intent?.slots.find((s) => s.type === 'house_place');
    assert.equal(place?.value, 'wohnzimmer');
    assert.deepEqual([place?.start, place?.end], [18, 28]);
  });
});

test('Chinese: "把客厅的灯关掉" → iot_hue_lightoff, house_place 客厅', async () => {
  await withModels('zh-cn', async (reg) => {
    const a = await reg.analyze('把客厅的灯关掉', ['intent']);
    assert.equal(a.intent?.name, 'iot_hue_lightoff', JSON.stringify(a.intent));
    const place = a.intent?.slots.find((s) => s.type === 'house_place');
    assert.equal(place?.value, '客厅');
    assert.deepEqual([place?.start, place?.end], [1, 3]);
    // Chinese numerals reach the slot value as a number.
    const t = await reg.analyze('把客厅的温度调到二十二度', ['intent']);
    assert.equal(t.intent?.name, 'iot_thermostat_set');
    assert.ok(t.intent?.slots.some((s) => s.type === 'temperature' && s.value === 22), JSON.stringify(t.intent?.slots));
  });
});

test('French and Spanish commands, and out-of-scope questions come out unknown', async () => {
  const cases: [string, string, string][] = [
    ['fr', 'éteins la lumière de la cuisine', 'iot_hue_lightoff'],
    ['fr', 'raconte-moi une blague', 'unknown'],
    ['es', 'enciende la luz del salón', 'iot_hue_lighton'],
    ['es', 'quién escribió el Quijote', 'unknown'],
    ['de', 'erzähl mir einen Witz', 'unknown'],
    ['zh-cn', '给我讲个笑话', 'unknown'],
  ];
  for (const [lang, text, want] of cases) {
    await withModels(lang, async (reg) => {
      const a = await reg.analyze(text, ['intent']);
      assert.equal(a.intent?.name, want, `${lang} "${text}": ${JSON.stringify(a.intent?.alternatives)}`);
    });
  }
});

test('sentiment: commands are neutral, clear feelings are not', async () => {
  const cases: [string, string, string][] = [
    ['de', 'mach das Licht in der Küche an', 'neutral'],
    ['de', 'Ich hasse diesen Tag, alles geht schief', 'negative'],
    ['es', 'me encanta, es genial', 'positive'],
    ['zh-cn', '我今天很开心', 'positive'],
  ];
  for (const [lang, text, want] of cases) {
    await withModels(lang, async (reg) => {
      const a = await reg.analyze(text, ['sentiment']);
      assert.equal(a.sentiment?.label, want, `${lang} "${text}": ${JSON.stringify(a.sentiment?.scores)}`);
    });
  }
});
