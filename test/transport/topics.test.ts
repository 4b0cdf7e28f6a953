import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPublishTopic, escapeSegment, filterOf, isSafeSegment, matchTopic, renderTopic, siteSegment, TopicError } from '../../src/transport/topics.js';

describe('matchTopic', () => {
  test('+ matches exactly one level and captures it', () => {
    assert.deepEqual(matchTopic('hubnlu/+/utterance', 'hubnlu/kitchen/utterance'), ['kitchen']);
    assert.equal(matchTopic('hubnlu/+/utterance', 'hubnlu/kitchen/extra/utterance'), null);
    assert.equal(matchTopic('hubnlu/+/utterance', 'hubnlu/utterance'), null);
    assert.equal(matchTopic('hubnlu/+/utterance', 'hubnlu/kitchen/result'), null);
    // An empty level is a level [MQTT-4.7.1-3]; the agent then refuses it as a site id.
    assert.deepEqual(matchTopic('hubnlu/+/utterance', 'hubnlu//utterance'), ['']);
    assert.deepEqual(matchTopic('+/+', 'a/b'), ['a', 'b']);
  });

  test('# matches the rest, including the parent level itself [MQTT-4.7.1-2]', () => {
    assert.deepEqual(matchTopic('hermes/#', 'hermes/asr/textCaptured'), ['asr/textCaptured']);
    assert.deepEqual(matchTopic('hermes/#', 'hermes'), ['']);
    assert.deepEqual(matchTopic('#', 'a/b/c'), ['a/b/c']);
    assert.equal(matchTopic('hermes/#', 'snips/asr'), null);
  });

  test('exact filters match only themselves', () => {
    assert.deepEqual(matchTopic('hermes/nlu/query', 'hermes/nlu/query'), []);
    assert.equal(matchTopic('hermes/nlu/query', 'hermes/nlu/query/x'), null);
    assert.equal(matchTopic('hermes/nlu/query', 'Hermes/nlu/query'), null, 'topics are case-sensitive');
  });

  test('$share/<group>/ is stripped before matching', () => {
    assert.equal(filterOf('$share/hubs/hubnlu/+/utterance'), 'hubnlu/+/utterance');
    assert.deepEqual(matchTopic('$share/hubs/hubnlu/+/utterance', 'hubnlu/den/utterance'), ['den']);
    assert.equal(matchTopic('$share/hubs/hubnlu/+/utterance', '$share/hubs/hubnlu/den/utterance'), null);
  });

  test('$-topics are not matched by a leading wildcard [MQTT-4.7.2-1]', () => {
    assert.equal(matchTopic('+/broker/load', '$SYS/broker/load'), null);
    assert.equal(matchTopic('#', '$SYS/broker/load'), null);
    assert.deepEqual(matchTopic('$SYS/+/load', '$SYS/broker/load'), ['broker']);
  });
});

describe('matchTopic over many filters', () => {
  test('the split filters it keeps are per filter and never stale: 600 distinct filters, each matched twice', () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 600; i++) {
        assert.deepEqual(matchTopic(`f${i}/+/x`, `f${i}/kitchen/x`), ['kitchen']);
        assert.equal(matchTopic(`f${i}/+/x`, `f${i + 1}/kitchen/x`), null);
      }
    }
  });
});

describe('assertPublishTopic length', () => {
  test('the 65,535-byte limit counts UTF-8 bytes, not characters', () => {
    assert.doesNotThrow(() => assertPublishTopic('a'.repeat(65535)));
    assert.throws(() => assertPublishTopic('a'.repeat(65536)), TopicError);
    assert.doesNotThrow(() => assertPublishTopic('€'.repeat(21845)), '65,535 bytes');
    assert.throws(() => assertPublishTopic('€'.repeat(21846)), TopicError, '65,538 bytes in 21,846 characters');
    assert.throws(() => assertPublishTopic('😀'.repeat(16384)), TopicError, '65,536 bytes in 32,768 UTF-16 units');
  });
});

describe('isSafeSegment / escapeSegment', () => {
  test('wildcards, separators, NUL and empty strings are unsafe and escaped', () => {
    for (const [raw, escaped] of [
      ['+', '_'],
      ['#', '_'],
      ['a/b', 'a_b'],
      ['nul\u0000byte', 'nul_byte'],
      ['', '_'],
      ['.', '_'],
      ['..', '_'],
      ['living room', 'living_room'],
    ] as const) {
      assert.equal(isSafeSegment(raw), false, JSON.stringify(raw));
      assert.equal(escapeSegment(raw), escaped, JSON.stringify(raw));
      assert.equal(isSafeSegment(escapeSegment(raw)), true, `escaped ${JSON.stringify(raw)} must be safe`);
    }
  });

  test('long strings: 64 code points pass, more are refused and cut to 64', () => {
    assert.equal(isSafeSegment('a'.repeat(64)), true);
    assert.equal(isSafeSegment('a'.repeat(65)), false);
    const long = 'x'.repeat(200);
    assert.equal(isSafeSegment(long), false);
    assert.equal(escapeSegment(long), 'x'.repeat(64));
    const wide = '客'.repeat(200); // counted in code points, never cut inside one
    assert.equal(Array.from(escapeSegment(wide)).length, 64);
    assert.equal(isSafeSegment(escapeSegment(wide)), true);
  });

  test('unicode room names are safe as they are', () => {
    for (const room of ['Küche', 'salle_de_bain', '客厅', 'гостиная', 'रसोई', 'ห้องนอน', 'café'.normalize('NFD'), 'room-2.1']) {
      assert.equal(isSafeSegment(room), true, room);
      assert.equal(escapeSegment(room), room, room);
    }
  });
});

describe('siteSegment (free-form Hermes siteIds as one topic level)', () => {
  test('a safe id is itself', () => {
    for (const site of ['kitchen', 'Küche', 'kitchen-1', 'living_room', '客厅']) assert.equal(siteSegment(site), site);
  });

  test('any other id: one safe level of at most 64 code points, escaped plus 8 hex of its hash', () => {
    for (const site of ['living room', '+', '#', '/', '$SYS', '$SYS/broker/#', '.', '..', '', 'a\u0000b', 'x'.repeat(10_000), '客'.repeat(200)]) {
      const seg = siteSegment(site);
      assert.equal(isSafeSegment(seg), true, `${JSON.stringify(site.slice(0, 20))} → ${seg}`);
      assert.match(seg, /-[0-9a-f]{8}$/);
      assert.ok(Array.from(seg).length <= 64);
    }
    assert.match(siteSegment('living room'), /^living_room-[0-9a-f]{8}$/);
    assert.equal(siteSegment('living room'), siteSegment('living room'), 'deterministic');
  });

  test('ids that escape alike get different levels', () => {
    const alike = ['living room', 'living+room', 'living/room', 'living#room', 'living_room', 'living\u00a0room'];
    assert.equal(new Set(alike.map(siteSegment)).size, alike.length);
    const long = ['y'.repeat(100) + 'a', 'y'.repeat(100) + 'b'];
    assert.notEqual(siteSegment(long[0]), siteSegment(long[1]), 'ids cut to the same prefix');
  });
});

describe('renderTopic', () => {
  test('fills placeholders', () => {
    assert.equal(renderTopic('{baseTopic}/{siteId}/result', { baseTopic: 'hubnlu', siteId: 'kitchen' }), 'hubnlu/kitchen/result');
  });

  test('refuses wildcards, NUL and unknown placeholders', () => {
    assert.throws(() => renderTopic('{baseTopic}/{siteId}/result', { baseTopic: 'hubnlu', siteId: '+' }), TopicError);
    assert.throws(() => renderTopic('{baseTopic}/{siteId}/result', { baseTopic: 'hubnlu', siteId: '#' }), /wildcard/);
    assert.throws(() => renderTopic('hubnlu/#', {}), TopicError);
    assert.throws(() => renderTopic('hubnlu/{siteId}', { siteId: 'a\u0000b' }), TopicError);
    assert.throws(() => renderTopic('{base}/{room}', { base: 'x' }), /unknown placeholder \{room\}/);
    assert.throws(() => assertPublishTopic(''), /empty publish topic/);
  });
});
