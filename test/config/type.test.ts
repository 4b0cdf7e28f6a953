/**
 * src/config/type.ts builds the config schema and the extensions' settings without TypeBox's runtime (issue 10, idle
 * RSS): each of its builders must give exactly what TypeBox's `Type` gives (its JSON Schema keys and its Kind /
 * Optional markers), and what it built must be a valid TypeBox schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type as TypeBox, TypeGuard } from '@sinclair/typebox';
import { Type } from '../../src/config/type.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { EXTENSIONS } from '../../src/extensions/index.js';

/** Own string and symbol keys, recursively: deepStrictEqual compares symbol keys too, this also names the first difference. */
function same(actual: unknown, expected: unknown, what: string): void {
  assert.deepStrictEqual(actual, expected, what);
  assert.equal(JSON.stringify(actual), JSON.stringify(expected), `${what}: key order`);
}

test('each builder gives what TypeBox gives', () => {
  const opts = { description: 'd', hint: 'h', default: 'x' };
  same(Type.String(), TypeBox.String(), 'String()');
  same(Type.String({ minLength: 1, pattern: '^a$', ...opts }), TypeBox.String({ minLength: 1, pattern: '^a$', ...opts }), 'String(options)');
  same(Type.Boolean({ default: true, hint: 'true or false' }), TypeBox.Boolean({ default: true, hint: 'true or false' }), 'Boolean');
  same(Type.Integer({ minimum: 0, maximum: 9, default: 3 }), TypeBox.Integer({ minimum: 0, maximum: 9, default: 3 }), 'Integer');
  same(Type.Number({ minimum: 0.1 }), TypeBox.Number({ minimum: 0.1 }), 'Number');
  for (const v of ['auto', 5, true] as const) same(Type.Literal(v, { description: 'l' }), TypeBox.Literal(v, { description: 'l' }), `Literal(${v})`);
  same(Type.Array(Type.String(), { minItems: 1, uniqueItems: true, default: [] }), TypeBox.Array(TypeBox.String(), { minItems: 1, uniqueItems: true, default: [] }), 'Array');
  same(Type.Union([Type.Literal('a'), Type.Literal('b')], opts), TypeBox.Union([TypeBox.Literal('a'), TypeBox.Literal('b')], opts), 'Union of 2');
  same(Type.Union([Type.Literal(5)], opts), TypeBox.Union([TypeBox.Literal(5)], opts), 'Union of 1');
  same(Type.Union([], opts), TypeBox.Union([], opts), 'Union of 0');
  same(Type.Optional(Type.String({ minLength: 1 })), TypeBox.Optional(TypeBox.String({ minLength: 1 })), 'Optional');
  same(Type.Optional(Type.Optional(Type.String()), false), TypeBox.Optional(TypeBox.Optional(TypeBox.String()), false), 'Optional(_, false)');
  const props = () => ({ a: Type.String(), b: Type.Optional(Type.Integer()), c: Type.Object({ d: Type.Optional(Type.Boolean()) }, { default: {} }) });
  const tbProps = () => ({ a: TypeBox.String(), b: TypeBox.Optional(TypeBox.Integer()), c: TypeBox.Object({ d: TypeBox.Optional(TypeBox.Boolean()) }, { default: {} }) });
  same(Type.Object(props(), { additionalProperties: false, ...opts }), TypeBox.Object(tbProps(), { additionalProperties: false, ...opts }), 'Object');
  same(Type.Object({}), TypeBox.Object({}), 'empty Object');
  same(Type.Record(Type.String({ minLength: 1 }), Type.String(), opts), TypeBox.Record(TypeBox.String({ minLength: 1 }), TypeBox.String(), opts), 'Record(String)');
  same(
    Type.Record(Type.String({ pattern: '^[a-z]{2}$' }), Type.Object({ x: Type.Optional(Type.String()) }), { additionalProperties: false }),
    TypeBox.Record(TypeBox.String({ pattern: '^[a-z]{2}$' }), TypeBox.Object({ x: TypeBox.Optional(TypeBox.String()) }), { additionalProperties: false }),
    'Record(String with pattern)',
  );
});

test('a record key it does not build is refused, not built wrongly', () => {
  assert.throws(() => Type.Record(Type.Integer() as never, Type.String()), /only string keys/);
});

test('the config schema and every extension\'s settings are valid TypeBox schemas', () => {
  assert.equal(TypeGuard.IsSchema(ConfigSchema), true);
  for (const [name, ext] of Object.entries(EXTENSIONS)) assert.equal(TypeGuard.IsSchema(ext.settings), true, name);
  // Optional settings are left out of `required`, as TypeBox does (Ajv then lets them be absent).
  const mqtt = (ConfigSchema.properties.mqtt as unknown as { required?: string[]; properties: Record<string, unknown> });
  assert.ok(!(mqtt.required ?? []).includes('url'));
  assert.ok('url' in mqtt.properties);
});
