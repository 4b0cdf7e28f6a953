/**
 * The schema builder the config schema (schema.ts) and the extensions' settings are written with: TypeBox's `Type`
 * for the ten kinds hubnlu uses, building the same JSON Schema objects (TypeBox 0.34's own code, with its `Kind` and
 * `Optional` markers) under TypeBox's own types, so `Static<typeof X>` is unchanged.
 *
 * Why not TypeBox itself: its index loads about 200 ES modules (its whole type system, value and compiler code) that
 * `hubnlu run` held for the process's lifetime only to build one schema object: about 7 MB of an idle agent's RSS
 * (issue 10, docs/performance.md "Idle RSS, third pass"). TypeBox stays the source of the types (`import type`), and
 * test/config/type.test.ts checks every builder, and the whole config schema, against TypeBox's runtime output.
 */
import type { JsonTypeBuilder } from '@sinclair/typebox';

const Kind = Symbol.for('TypeBox.Kind');
const OptionalKind = Symbol.for('TypeBox.Optional');
/** TypeBox's pattern for a `Type.String()` record key without its own pattern. */
const PatternStringExact = '^(.*)$';

type Schema = Record<string | symbol, unknown>;

/** TypeBox's CreateType in its default instance mode: the options, then the kind's own keys over them. */
function create(schema: Schema, options?: object): Schema {
  return options !== undefined ? { ...options, ...schema } : schema;
}

const isOptional = (s: unknown) => typeof s === 'object' && s !== null && (s as Schema)[OptionalKind] === 'Optional';

function object(properties: Record<string, Schema>, options?: object): Schema {
  const required = Object.keys(properties).filter((key) => !isOptional(properties[key]));
  return create(required.length > 0 ? { [Kind]: 'Object', type: 'object', required, properties } : { [Kind]: 'Object', type: 'object', properties }, options);
}

function optional(schema: Schema, enable = true): Schema {
  if (enable) return { ...schema, [OptionalKind]: 'Optional' };
  const { [OptionalKind]: _removed, ...rest } = schema;
  return rest;
}

function union(types: Schema[], options?: object): Schema {
  if (types.length === 0) return create({ [Kind]: 'Never', not: {} }, options);
  if (types.length === 1) return create(types[0], options);
  return create({ [Kind]: 'Union', anyOf: types }, options);
}

function record(key: Schema, value: Schema, options: object = {}): Schema {
  // hubnlu's record keys are strings; TypeBox's other key kinds (literals, unions, numbers, ...) are not built here.
  if (key[Kind] !== 'String') throw new Error(`Type.Record: only string keys are supported here (got ${String(key[Kind])})`);
  const pattern = typeof key.pattern === 'string' ? key.pattern : PatternStringExact;
  return create({ [Kind]: 'Record', type: 'object', patternProperties: { [pattern]: value } }, options);
}

const builder = {
  Array: (items: Schema, options?: object) => create({ [Kind]: 'Array', type: 'array', items }, options),
  Boolean: (options?: object) => create({ [Kind]: 'Boolean', type: 'boolean' }, options),
  Integer: (options?: object) => create({ [Kind]: 'Integer', type: 'integer' }, options),
  Number: (options?: object) => create({ [Kind]: 'Number', type: 'number' }, options),
  String: (options?: object) => create({ [Kind]: 'String', type: 'string' }, options),
  Literal: (value: string | number | boolean, options?: object) => create({ [Kind]: 'Literal', const: value, type: typeof value }, options),
  Object: object,
  Optional: optional,
  Union: union,
  Record: record,
};

/** The subset of TypeBox's `Type` hubnlu's schemas use, with TypeBox's signatures. */
export type SchemaBuilder = Pick<JsonTypeBuilder, keyof typeof builder>;

export const Type = builder as unknown as SchemaBuilder;

