import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.js';

function problemsOf(overrides: Record<string, unknown>): readonly string[] {
  try {
    loadConfig({ env: {}, cwd: '/nonexistent', overrides });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('learning settings: defaults, a bad nightly schedule and a bad promote mode name the setting and the fix', () => {
  const { config } = loadConfig({ env: {}, cwd: '/nonexistent' });
  assert.equal(config.learning.modelsDir, 'data/models');
  assert.equal(config.learning.retrain.schedule, undefined, 'no nightly retrain unless configured');
  assert.equal(config.learning.retrain.promote, 'if-better');
  assert.equal(config.learning.maxDevDrop, 0.5);
  let problems = problemsOf({ 'learning.retrain.schedule': 'nightly' });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^learning\.retrain\.schedule: not a valid cron expression.*0 3 \* \* \*/);
  problems = problemsOf({ 'learning.retrain.promote': 'always' });
  assert.ok(problems.some((p) => /learning\.retrain\.promote/.test(p) && /if-better or never/.test(p)), problems.join('\n'));
  problems = problemsOf({ 'learning.holdout': 0.95 });
  assert.ok(problems.some((p) => /learning\.holdout/.test(p)), problems.join('\n'));
});
