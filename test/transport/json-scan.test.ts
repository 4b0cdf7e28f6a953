import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanJson } from '../../src/transport/json-scan.js';
import { mulberry32 } from '../../src/data/random.js';

const SEEDS = [
  '{"text": "turn off the lights", "id": "req-1", "siteId": "kitchen"}',
  '{"input": "hello", "id": 12345678901234567890123, "meta": {"a": [1, 2.5e-3, -0, true, false, null], "b": {}}, "tasks": []}',
  '{"text": "caf\\u00e9 \\"quoted\\" \\\\ \\/ \\b\\f\\n\\r\\t \\ud83d\\ude00"}',
  '[{"a": []}, [], "x", 0]',
  '  {\t"k" :\n"v"\r}  ',
];
const ALPHABET = '{}[]",:\\ u0123456789abcdefnrt.-+eE\u0001\u00e9';

test('scanJson agrees with JSON.parse on what is JSON, over 20,000 seeded mutations', () => {
  const rand = mulberry32(7);
  const pick = (s: string): string => s[Math.floor(rand() * s.length)];
  let invalid = 0;
  for (let i = 0; i < 20_000; i++) {
    let s = SEEDS[i % SEEDS.length];
    const edits = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * (s.length + 1));
      const op = rand();
      if (op < 0.4) s = s.slice(0, at) + s.slice(at + 1);
      else if (op < 0.8) s = s.slice(0, at) + pick(ALPHABET) + s.slice(at);
      else s = s.slice(0, at);
    }
    let parses = true;
    try {
      JSON.parse(s);
    } catch {
      parses = false;
    }
    const scan = scanJson(s);
    assert.equal(scan.ok, parses, `disagreement on ${JSON.stringify(s)}: ${JSON.stringify(scan)}`);
    if (!scan.ok) {
      invalid++;
      assert.ok(scan.position >= 0 && scan.position <= s.length, JSON.stringify(s));
    }
  }
  assert.ok(invalid > 5000, `only ${invalid} mutations were invalid JSON: the test would prove little`);
});

test('top-level numbers keep their source text; nested ones are not collected', () => {
  const scan = scanJson('{"id": 12345678901234567890123, "n": -1.50e+2, "meta": {"id": 1}, "list": [5]}');
  assert.ok(scan.ok);
  assert.deepEqual([...scan.topLevelNumbers], [
    ['id', '12345678901234567890123'],
    ['n', '-1.50e+2'],
  ]);
});

test('deep nesting is scanned without recursion', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.equal(scanJson(deep).ok, true);
  const broken = scanJson('['.repeat(100_000) + '}');
  assert.deepEqual(broken, { ok: false, position: 100_000, reason: 'unexpected character where a value should start' });
});
