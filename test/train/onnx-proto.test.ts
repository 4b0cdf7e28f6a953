import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_TYPE, decodeModel, encodeModel, FIELD, Msg } from '../../src/train/onnx-proto.js';
import { BERT_TINY, buildBertGraph, randomBertWeights } from '../../src/train/bert-graph.js';
import { OnnxModel } from '../../src/model/onnx-backend.js';
import { packageRoot } from '../../src/util/paths.js';

function onnxFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...onnxFiles(p));
    else if (e.endsWith('.onnx')) out.push(p);
  }
  return out.sort();
}

async function run(bytes: Uint8Array, feeds: Parameters<OnnxModel['run']>[0]): Promise<Awaited<ReturnType<OnnxModel['run']>>> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-proto-'));
  try {
    writeFileSync(join(dir, 'm.onnx'), bytes);
    const m = await OnnxModel.load(join(dir, 'm.onnx'));
    try {
      return await m.run(feeds);
    } finally {
      await m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every shipped model reads and writes back byte for byte', () => {
  const files = onnxFiles(join(packageRoot(), 'models'));
  assert.ok(files.length >= 10, `found ${files.length} shipped models`);
  for (const f of files) {
    const bytes = new Uint8Array(readFileSync(f));
    const m = decodeModel(bytes, f);
    assert.ok(m.graph.nodes.length > 0 && m.graph.initializers.length > 0, f);
    assert.equal(m.opsetImports[0].version, 17, f);
    const again = encodeModel(m);
    assert.equal(Buffer.compare(Buffer.from(again), Buffer.from(bytes)), 0, `${f}: re-encoded bytes differ`);
  }
});

test('a BERT graph round-trips: symbolic dims, opsets, metadata, attributes, and the same outputs in onnxruntime', async () => {
  const shape = { ...BERT_TINY, head: 'token-classification' as const };
  const bytes = buildBertGraph(shape, randomBertWeights(shape, { seed: 2, std: 0.2 }));
  const m = decodeModel(bytes);
  assert.deepEqual(m.graph.inputs.map((v) => [v.name, v.tensor?.elemType, v.tensor?.dims]), [
    ['input_ids', DATA_TYPE.int64, ['batch', 'sequence']],
    ['attention_mask', DATA_TYPE.int64, ['batch', 'sequence']],
    ['token_type_ids', DATA_TYPE.int64, ['batch', 'sequence']],
  ]);
  assert.deepEqual(m.graph.outputs[0].tensor?.dims, ['batch', 'sequence', shape.numLabels]);
  assert.deepEqual(m.opsetImports, [{ domain: '', version: 17 }]);
  assert.equal(m.metadata.get('architecture'), 'bert');
  const ln = m.graph.nodes.find((n) => n.opType === 'LayerNormalization')!;
  assert.deepEqual(ln.attributes.get('axis'), { kind: 'int', value: -1 });
  assert.ok(Math.abs((ln.attributes.get('epsilon') as { value: number }).value - 1e-12) < 1e-18);
  assert.equal(Buffer.compare(Buffer.from(encodeModel(m)), Buffer.from(bytes)), 0);
  const ids = { type: 'int64' as const, data: BigInt64Array.from([1n, 5n, 9n, 2n]), dims: [1, 4] };
  const feeds = { input_ids: ids, attention_mask: { ...ids, data: BigInt64Array.from([1n, 1n, 1n, 1n]) }, token_type_ids: { ...ids, data: new BigInt64Array(4) } };
  const a = await run(bytes, feeds);
  const b = await run(encodeModel(decodeModel(bytes)), feeds);
  assert.deepEqual(Array.from(b.logits.data), Array.from(a.logits.data));
});

/** A model y = x + c where c is written in the typed fields other exporters use instead of raw_data. */
function typedFieldModel(c: Msg): Uint8Array {
  const shape = new Msg().msg(FIELD.shape.dim, new Msg().string(FIELD.dim.param, 'n'));
  const vi = (name: string): Msg => new Msg().string(1, name).msg(2, new Msg().msg(1, new Msg().int(1, DATA_TYPE.float32).msg(2, shape)));
  const node = new Msg().string(1, 'x').string(1, 'c').string(2, 'y').string(3, 'add').string(4, 'Add');
  const graph = new Msg().msg(1, node).string(2, 'g').msg(5, c).msg(11, vi('x')).msg(12, vi('y'));
  return new Msg().int(1, 8).msg(7, graph).msg(8, new Msg().string(1, '').int(2, 17)).finish();
}

test('tensors in float_data (packed and unpacked), int64_data and unpacked dims decode to the same values', async () => {
  const packed = new Msg().packedInts(1, [3]).int(2, DATA_TYPE.float32).string(8, 'c').packedFloats(4, [1.5, -2, 4]);
  const unpacked = new Msg().int(1, 3).int(2, DATA_TYPE.float32).string(8, 'c').float(4, 1.5).float(4, -2).float(4, 4);
  for (const c of [packed, unpacked]) {
    const bytes = typedFieldModel(c);
    const m = decodeModel(bytes);
    const t = m.graph.initializers[0];
    assert.deepEqual(t.dims, [3]);
    assert.deepEqual(Array.from(new Float32Array(t.raw.slice().buffer)), [1.5, -2, 4]);
    assert.equal(m.graph.inputs[0].tensor?.dims?.[0], 'n');
    // onnxruntime reads the original and the re-encoded (raw_data) file alike.
    const x = { x: { type: 'float32' as const, data: new Float32Array([1, 1, 1]), dims: [3] } };
    assert.deepEqual(Array.from((await run(bytes, x)).y.data), [2.5, -1, 5]);
    assert.deepEqual(Array.from((await run(encodeModel(m), x)).y.data), [2.5, -1, 5]);
  }
  const i64 = new Msg().packedInts(1, [2]).int(2, DATA_TYPE.int64).packedInts(7, [-1, 1n << 40n]);
  const t = decodeModel(typedFieldModel(i64)).graph.initializers[0];
  assert.deepEqual(Array.from(new BigInt64Array(t.raw.slice().buffer)), [-1n, 1n << 40n]);
  const i8 = new Msg().packedInts(1, [3]).int(2, DATA_TYPE.int8).packedInts(5, [-128, 0, 127]);
  const t8 = decodeModel(typedFieldModel(i8)).graph.initializers[0];
  assert.deepEqual(Array.from(new Int8Array(t8.raw.slice().buffer)), [-128, 0, 127]);
});

test('clear errors: external data, wrong sizes, truncated and non-ONNX bytes', () => {
  const external = new Msg().packedInts(1, [3]).int(2, DATA_TYPE.float32).string(8, 'big').msg(13, new Msg().string(1, 'location').string(2, 'weights.bin')).int(14, 1);
  assert.throws(() => decodeModel(typedFieldModel(external), 'model.onnx'), /model\.onnx: tensor "big" keeps its data in an external file.*save_as_external_data=False/);
  const short = new Msg().packedInts(1, [4]).int(2, DATA_TYPE.float32).string(8, 'c').packedFloats(4, [1, 2]);
  assert.throws(() => decodeModel(typedFieldModel(short)), /dims ask for 4 values but it holds 2/);
  const good = typedFieldModel(new Msg().packedInts(1, [1]).int(2, DATA_TYPE.float32).string(8, 'c').packedFloats(4, [1]));
  assert.throws(() => decodeModel(good.subarray(0, good.length - 3), 'cut.onnx'), /cut\.onnx: not a valid ONNX protobuf/);
  assert.throws(() => decodeModel(new TextEncoder().encode('{"not": "onnx"}'), 'x.json'), /x\.json: not/);
});

test('fields the reader does not model survive a round trip unchanged', () => {
  const base = decodeModel(typedFieldModel(new Msg().packedInts(1, [1]).int(2, DATA_TYPE.float32).string(8, 'c').packedFloats(4, [1])));
  // ModelProto.training_info (20) and a node's metadata_props (9), as raw fields.
  base.unknown = [{ field: 20, wireType: 2, data: new Uint8Array([0x0a, 0x00]) }];
  base.graph.nodes[0].unknown = [{ field: 9, wireType: 2, data: new Uint8Array([0x0a, 0x01, 0x6b]) }];
  const again = decodeModel(encodeModel(base));
  assert.deepEqual(again.unknown, base.unknown);
  assert.deepEqual(again.graph.nodes[0].unknown, base.graph.nodes[0].unknown);
});
