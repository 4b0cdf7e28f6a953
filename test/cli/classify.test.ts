/** `hubnlu classify` as a process: the result-topic JSON, task selection, usage errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

test('classify prints the same JSON as the result topic', { timeout: 60_000 }, () => {
  const r = runCli(['classify', 'set the heating to twenty one degrees in the bedroom', '--compact', '--site', 'hall']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1, '--compact prints one line');
  const result = JSON.parse(r.stdout);
  assert.equal(result.siteId, 'hall');
  assert.equal(result.intent.name, 'iot_thermostat_set');
  assert.equal(result.alternatives.length, 3);
  const temperature = result.slots.find((s: { type: string }) => s.type === 'temperature');
  assert.equal(temperature?.value, 21, JSON.stringify(result.slots));
  assert.equal(temperature.raw, 'twenty one degrees');
  assert.ok(result.slots.some((s: { type: string; value: unknown }) => s.type === 'house_place' && s.value === 'bedroom'));
  assert.deepEqual(Object.keys(result.sentiment.scores).sort(), ['negative', 'neutral', 'positive']);
  // The language identifier chose the models, so it is listed too (issue 11).
  assert.deepEqual(result.models.map((m: { task: string }) => m.task), ['intent', 'sentiment', 'langid']);
  assert.equal(result.lang, 'en');
  assert.equal(result.langSource, 'detected');
});

test('--tasks sentiment runs only the sentiment model', { timeout: 60_000 }, () => {
  const r = runCli(['classify', '--tasks', 'sentiment', 'I', 'love', 'this', 'song']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.intent, undefined);
  assert.equal(result.sentiment.label, 'positive');
  assert.deepEqual(result.models.map((m: { task: string }) => m.task), ['sentiment', 'langid']);
});

test('usage errors exit 2 with the reason', { timeout: 60_000 }, () => {
  const empty = runCli(['classify', '']);
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /empty_text/);
  const badTask = runCli(['classify', '--tasks', 'mood', 'hello']);
  assert.equal(badTask.status, 2);
  assert.match(badTask.stderr, /--tasks/);
  // Not a language tag at all (a typo, a language's name): a usage error, as in eval --lang, not a silent `unknown`.
  const badLang = runCli(['classify', '--lang', 'english', 'turn off the kitchen lights']);
  assert.equal(badLang.status, 2, badLang.stdout);
  assert.match(badLang.stderr, /--lang: "english" is not a language tag; use e\.g\. de or zh-CN/);
  assert.equal(badLang.stdout, '');
});

test('--lang names the language: a language without models is unknown with reason unsupported_language', { timeout: 60_000 }, () => {
  const r = runCli(['classify', '--compact', '--lang', 'xx', 'turn off the kitchen lights']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.lang, 'xx');
  assert.equal(result.langSource, 'payload');
  assert.equal(result.reason, 'unsupported_language');
  assert.equal(result.intent.name, 'unknown');
  assert.equal(result.sentiment, undefined, 'no sentiment from another language\'s model');
  const en = JSON.parse(runCli(['classify', '--compact', '--lang', 'en-GB', 'turn off the kitchen lights']).stdout);
  assert.equal(en.lang, 'en');
  assert.equal(en.intent.name, 'iot_hue_lightoff');
  assert.equal(en.reason, undefined);
});
