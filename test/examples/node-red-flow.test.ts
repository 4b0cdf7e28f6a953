/**
 * examples/node-red/flow.json without Node-RED (the real Node-RED run is
 * `npm run bench:node-red`): the flow is well formed, listens where hubnlu
 * publishes, routes on labels the shipped model has, and its function nodes,
 * run on real hubnlu results, produce the light commands.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { buildResult } from '../../src/agent/messages.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { matchTopic } from '../../src/transport/topics.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { shippedModels } from '../helpers/extension-context.js';

type Node = Record<string, unknown> & { id: string; type: string; wires?: string[][] };
const flow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'node-red', 'flow.json'), 'utf8')) as Node[];
const byId = new Map(flow.map((n) => [n.id, n]));

let registry: ModelRegistry;
before(async () => {
  registry = await ModelRegistry.load();
});
after(async () => {
  await registry.close();
});

/** What the flow's mqtt-in node hands the switch for one utterance: a real native result. */
async function resultFor(text: string, siteId: string): Promise<Record<string, unknown>> {
  const analysis = await registry.analyze(text, ['intent', 'sentiment']);
  const input = { id: 'nr-1', siteId, sessionId: null, lang: null, text, topic: `hubnlu/${siteId}/utterance`, receivedAt: Date.now(), request: {} };
  return JSON.parse(JSON.stringify(buildResult(input, analysis, 1))) as Record<string, unknown>;
}

/** Follows the flow from the switch the way Node-RED would: first matching rule, then that output's function node. */
function route(result: Record<string, unknown>): { topic: string; payload: Record<string, unknown> } | null {
  const sw = flow.find((n) => n.type === 'switch')!;
  const value = (sw.property as string).split('.').slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], result);
  const rules = sw.rules as Array<{ t: string; v: string }>;
  const index = rules.findIndex((r) => r.t === 'eq' && r.v === value);
  if (index < 0) return null;
  const fn = byId.get(sw.wires![index][0])!;
  assert.equal(fn.type, 'function');
  const out = runInNewContext(`(function (msg) {\n${fn.func as string}\n})(msg)`, { msg: { topic: 'hubnlu/x/result', payload: result } }) as { topic: string; payload: Record<string, unknown> } | null;
  return out === null ? null : JSON.parse(JSON.stringify(out)); // out of the vm's realm
}

test('well formed: every wire and broker reference names a node; one tab', () => {
  assert.equal(flow.filter((n) => n.type === 'tab').length, 1);
  for (const n of flow) {
    for (const out of n.wires ?? []) for (const target of out) assert.ok(byId.has(target), `${n.id} wires to missing ${target}`);
    if (n.type !== 'mqtt-broker' && n.broker !== undefined) assert.equal(byId.get(n.broker as string)?.type, 'mqtt-broker', `${n.id}: broker`);
  }
  const ids = flow.map((n) => n.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
});

test('listens on the native result topic, injects on the utterance topic, routes on model labels', () => {
  const results = flow.find((n) => n.type === 'mqtt in')!;
  assert.ok(matchTopic(results.topic as string, 'hubnlu/kitchen/result'), 'the mqtt-in node must match hubnlu/<site>/result');
  assert.equal(results.datatype, 'json');
  for (const inject of flow.filter((n) => n.type === 'inject')) {
    assert.ok(matchTopic('hubnlu/+/utterance', inject.topic as string), `${inject.id} publishes to ${inject.topic}`);
    assert.equal(byId.get(inject.wires![0][0])?.type, 'mqtt out');
  }
  const labels = shippedModels().labels.intent;
  for (const rule of flow.find((n) => n.type === 'switch')!.rules as Array<{ v: string }>) assert.ok(labels.includes(rule.v), `${rule.v} is not a label of the shipped intent model`);
});

test('function nodes turn real results into light commands; other intents go nowhere', async () => {
  assert.deepEqual(route(await resultFor('turn off the kitchen lights', 'hall')), {
    topic: 'home/kitchen/light/set',
    payload: { state: 'OFF', source: 'hubnlu', id: 'nr-1' },
  });
  assert.deepEqual(route(await resultFor('turn on the lights', 'bedroom')), { topic: 'home/bedroom/light/set', payload: { state: 'ON', source: 'hubnlu', id: 'nr-1' } });
  assert.deepEqual(route(await resultFor('make the living room lights blue', 'hall')), {
    topic: 'home/living_room/light/set',
    payload: { state: 'ON', color: 'blue', source: 'hubnlu', id: 'nr-1' },
  });
  assert.equal(route(await resultFor('what is the weather tomorrow', 'study')), null);
});
