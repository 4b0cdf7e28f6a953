/**
 * The config validator `npm run build` writes as code (src/config/validator.ts, issue 10's cold start) is the one
 * in use, and it judges configs and fills defaults exactly as Ajv compiling the schema at start does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { configValidator } from '../../src/config/validator.js';
import { ConfigSchema } from '../../src/config/schema.js';

test('the build wrote the validator for the current schema, and it is the one used', () => {
  const v = configValidator() as unknown as { schemaHash?: string };
  assert.equal(typeof v.schemaHash, 'string', 'npm run build writes dist/src/config/config-validator.generated.cjs; rebuild');
});

test('the generated validator and a runtime-compiled one agree on errors and defaults', () => {
  const generated = configValidator();
  const compiled = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(ConfigSchema);
  const configs: unknown[] = [
    {},
    { mqtt: { url: 'mqtt://localhost:1883' } },
    { mqtt: { url: 42, bogus: true }, storage: { synchronous: 'sometimes' } },
    { input: { topics: [{ topic: 'a/+/b', tasks: ['intent', 'nope'] }], maxInFlight: -1 } },
    { models: { unknownThreshold: 2 }, log: { level: 'loud' }, extensions: { hermes: { enabled: 'yes' } } },
    { learning: { retrain: { schedule: 5 } }, unknownTopLevel: {} },
    [],
    'not an object',
  ];
  for (const c of configs) {
    const a = structuredClone(c);
    const b = structuredClone(c);
    const okA = generated(a);
    const okB = compiled(b);
    assert.equal(okA, okB, JSON.stringify(c));
    assert.deepEqual(generated.errors ?? null, compiled.errors ?? null, JSON.stringify(c));
    assert.deepEqual(a, b, `defaults filled in the same way for ${JSON.stringify(c)}`);
  }
});
