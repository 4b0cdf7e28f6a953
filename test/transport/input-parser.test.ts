import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { excerptOf, parsePayload, type ParseLimits, type ParseResult, type PayloadFormat, type RejectionCode } from '../../src/transport/input-parser.js';

const LIMITS: ParseLimits = { maxPayloadBytes: 16384, maxTextChars: 1000 };

function parse(payload: string | Uint8Array | object, format: PayloadFormat = 'auto', limits: ParseLimits = LIMITS): ParseResult {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload instanceof Uint8Array ? payload : Buffer.from(JSON.stringify(payload));
  return parsePayload(bytes, format, limits);
}

function rejected(result: ParseResult): { code: RejectionCode; message: string; id?: string; siteId?: string; sessionId?: string } {
  assert.equal(result.ok, false, `expected a rejection, got ${JSON.stringify(result)}`);
  return result as Extract<ParseResult, { ok: false }>;
}

function accepted(result: ParseResult) {
  assert.equal(result.ok, true, `expected acceptance, got ${JSON.stringify(result)}`);
  return (result as Extract<ParseResult, { ok: true }>).value;
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** Every code, each with hostile payloads that must produce it. Typed as a full Record: a new code fails to compile until it is covered here. */
const HOSTILE: Record<RejectionCode, ReadonlyArray<[label: string, payload: string | Uint8Array | object, format?: PayloadFormat]>> = {
  payload_too_large: [
    ['16385 bytes of text', 'a'.repeat(16385)],
    ['a JSON object one byte over', JSON.stringify({ text: 'x'.repeat(16385 - '{"text":""}'.length) })],
  ],
  invalid_utf8: [
    ['bytes FF FE', Uint8Array.from([0xff, 0xfe, 0x68, 0x69])],
    ['overlong "/"', Uint8Array.from([0xc0, 0xaf])],
    ['lone surrogate', Uint8Array.from([0x68, 0xed, 0xa0, 0x80])],
    ['truncated sequence', Uint8Array.from([0x68, 0xe2, 0x82])],
  ],
  invalid_json: [
    ['unclosed object', '{"text": "hi"'],
    ['trailing comma', '{"text": "hi",}'],
    ['plain text on a json subscription', 'turn on the lights', 'json'],
    ['plain text on a hermes subscription', 'turn on the lights', 'hermes'],
  ],
  json_not_object: [
    ['JSON array', '["turn", "on"]'],
    ['JSON string on a json subscription', '"hi"', 'json'],
    ['null', 'null', 'json'],
    ['number', '5', 'hermes'],
  ],
  too_deeply_nested: [
    ['50-deep meta', { text: 'hi', meta: nested(50) }],
    ['deep customData-like extra field', { text: 'hi', extra: nested(9) }],
  ],
  missing_text: [
    ['empty object', {}],
    ['misspelt field', { txt: 'hi' }],
  ],
  invalid_field: [
    ['"text": 5', { text: 5 }],
    ['"text": null', { text: null }],
    ['"input": []', { input: [] }],
    ['id as object', { text: 'hi', id: { a: 1 } }],
    ['sessionId as number', { text: 'hi', sessionId: 7 }],
    ['id of 129 characters', { text: 'hi', id: 'i'.repeat(129) }],
    ['siteId of 65 characters', { text: 'hi', siteId: 's'.repeat(65) }],
    ['lang with control characters', { text: 'hi', lang: 'en\u0007' }],
    ['tasks not a list', { text: 'hi', tasks: 'intent' }],
    ['unknown task', { text: 'hi', tasks: ['intent', 'translate'] }],
    ['empty task list', { text: 'hi', tasks: [] }],
    ['Hermes intentFilter: "x"', { input: 'hi', intentFilter: 'x' }, 'hermes'],
    ['intentFilter with a number', { input: 'hi', intentFilter: ['a', 1] }, 'hermes'],
    ['customData as object', { input: 'hi', customData: { a: 1 } }, 'hermes'],
    ['meta as array', { text: 'hi', meta: [1] }],
  ],
  empty_text: [
    ['whitespace text', ' \t\n  '],
    ['empty payload', ''],
    ['whitespace JSON text', { text: '   ' }],
    ['empty Hermes input', { input: '' }, 'hermes'],
  ],
  text_too_long: [
    ['1001 characters of text', 'a'.repeat(1001)],
    ['1001 characters in JSON', { text: 'b'.repeat(1001) }],
  ],
  control_characters: [
    ['BEL in text', 'hi\u0007there'],
    ['NUL in JSON text', { text: 'a\u0000b' }],
    ['escape sequence', { text: '\u001b[31mred' }],
    ['C1 control', 'next\u0085line'],
    ['DEL', 'del\u007f'],
  ],
  invalid_site_id: [
    ['siteId "a/b"', { text: 'hi', siteId: 'a/b' }],
    ['siteId "#"', { text: 'hi', siteId: '#' }],
    ['siteId "+"', { input: 'hi', siteId: '+' }],
    ['siteId "+" (json format)', { input: 'hi', siteId: '+' }, 'json'],
    ['siteId ".."', { text: 'hi', siteId: '..' }],
    ['siteId with a space', { text: 'hi', siteId: 'living room' }],
  ],
  too_many_items: [
    ['1000-item intentFilter', { input: 'hi', intentFilter: Array.from({ length: 1000 }, (_, i) => `i${i}`) }, 'hermes'],
    ['meta with 300 keys', { text: 'hi', meta: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])) }],
  ],
};

describe('parsePayload rejections', () => {
  for (const [code, cases] of Object.entries(HOSTILE) as Array<[RejectionCode, (typeof HOSTILE)[RejectionCode]]>) {
    test(code, () => {
      assert.ok(cases.length > 0);
      for (const [label, payload, format] of cases) {
        const r = rejected(parse(payload, format ?? 'auto'));
        assert.equal(r.code, code, `${label}: got ${r.code} (${r.message})`);
        assert.ok(r.message.length > 0, `${label}: empty message`);
      }
    });
  }

  test('the limits in messages name the setting to change', () => {
    assert.match(rejected(parse('a'.repeat(16385))).message, /input\.maxPayloadBytes = 16384/);
    assert.match(rejected(parse('a'.repeat(1001))).message, /input\.maxTextChars = 1000/);
  });

  test('a rejection keeps what could be read, so the error can be correlated', () => {
    const r = rejected(parse({ id: 'req-9', siteId: 'hall', sessionId: 's-1', text: 5 }));
    assert.deepEqual([r.id, r.siteId, r.sessionId], ['req-9', 'hall', 's-1']);
    const bad = rejected(parse({ id: 'req-10', siteId: 'a/b', text: 'hi' }));
    assert.equal(bad.id, 'req-10');
    assert.equal(bad.siteId, undefined, 'an unsafe site id is never carried on');
  });

  test('exactly at the limits is accepted', () => {
    assert.equal(accepted(parse('a'.repeat(1000))).text.length, 1000);
    const limits = { maxPayloadBytes: 64, maxTextChars: 1000 };
    assert.equal(accepted(parse('b'.repeat(64), 'auto', limits)).text.length, 64);
    assert.equal(rejected(parse('b'.repeat(65), 'auto', limits)).code, 'payload_too_large');
    assert.ok(accepted(parse({ text: 'hi', meta: nested(7) })), 'depth 8 is within the default limit');
  });
});

describe('parsePayload accepted forms', () => {
  test('plain UTF-8 text, trimmed', () => {
    const v = accepted(parse('  turn off the kitchen lights\n'));
    assert.equal(v.text, 'turn off the kitchen lights');
    assert.equal(v.id, undefined);
    assert.deepEqual(v.request, {});
    assert.equal(accepted(parse('mach das Licht in der Küche aus')).text, 'mach das Licht in der Küche aus');
    assert.equal(accepted(parse('line one\nline\ttwo')).text, 'line one\nline\ttwo', 'tabs and line breaks are allowed');
  });

  test('text format takes JSON-looking payloads as text', () => {
    assert.equal(accepted(parse('{"text": "hi"}', 'text')).text, '{"text": "hi"}');
  });

  test('{text} with the native optional fields', () => {
    const v = accepted(parse({ text: 'dim the lights', id: 'abc', siteId: 'Küche', sessionId: 'S', lang: 'de', tasks: ['sentiment', 'sentiment'], meta: { user: 'ann' } }, 'json'));
    assert.equal(v.text, 'dim the lights');
    assert.equal(v.id, 'abc');
    assert.equal(v.siteId, 'Küche');
    assert.equal(v.sessionId, 'S');
    assert.equal(v.lang, 'de');
    assert.deepEqual(v.tasks, ['sentiment'], 'duplicates dropped');
    assert.deepEqual(v.request, { meta: { user: 'ann' } });
  });

  test('Hermes nlu/query: input, siteId, sessionId, id, intentFilter, customData', () => {
    const hermes = { input: 'what is the weather', siteId: 'bedroom', sessionId: 'sess-42', id: 'h-1', intentFilter: ['weather_query', 'datetime_query'], customData: 'from-satellite', asrConfidence: 0.93 };
    const v = accepted(parse(hermes, 'hermes'));
    assert.equal(v.text, 'what is the weather');
    assert.equal(v.id, 'h-1');
    assert.equal(v.siteId, 'bedroom');
    assert.equal(v.sessionId, 'sess-42');
    assert.deepEqual(v.request, { intentFilter: ['weather_query', 'datetime_query'], customData: 'from-satellite', asrConfidence: 0.93 });
    // Hermes sends explicit nulls for absent fields.
    const sparse = accepted(parse({ input: 'hello', siteId: 'default', sessionId: null, id: null, intentFilter: null, customData: null }, 'hermes'));
    assert.equal(sparse.id, undefined);
    assert.equal(sparse.sessionId, undefined);
    assert.deepEqual(sparse.request, {});
  });

  test('a numeric id becomes a string; an empty id counts as none', () => {
    assert.equal(accepted(parse({ text: 'hi', id: 12 })).id, '12');
    assert.equal(accepted(parse({ text: 'hi', id: 0 })).id, '0');
    assert.equal(accepted(parse({ text: 'hi', id: '' })).id, undefined);
  });

  test('a numeric id is kept exactly as written: no precision lost, no collision', () => {
    const a = accepted(parse('{"text": "hi", "id": 12345678901234567890123}')).id;
    const b = accepted(parse('{"text": "hi", "id": 12345678901234567890124}')).id;
    assert.equal(a, '12345678901234567890123');
    assert.equal(b, '12345678901234567890124');
    assert.equal(accepted(parse('{"id": 1.50, "text": "hi"}')).id, '1.50');
    assert.equal(accepted(parse('{"id": -2e3, "text": "hi"}')).id, '-2e3');
    // The top-level id only; the last of repeated keys, as JSON.parse takes it.
    assert.equal(accepted(parse('{"meta": {"id": 7}, "id": 1, "id": 99999999999999999999, "text": "hi"}')).id, '99999999999999999999');
    assert.equal(accepted(parse('{"\\u0069d": 123456789012345678901, "text": "hi"}')).id, '123456789012345678901', 'an escaped key is the same key');
    assert.equal(rejected(parse(`{"text": "hi", "id": ${'9'.repeat(129)}}`)).code, 'invalid_field');
    assert.equal(rejected(parse({ text: 'hi', id: true })).code, 'invalid_field');
  });

  test('invalid JSON: a fixed reason and a position, never the payload itself', () => {
    const cases: Array<[payload: string, reason: RegExp]> = [
      ['{"text": "a\\qsecret"}', /bad escape sequence at position 11$/],
      ['{"text": "secret\u0001"}', /control character inside a string at position 16$/],
      ['{"text": "secret", }', /expected a property name in double quotes at position 19$/],
      ['{"text": secret}', /unexpected character where a value should start at position 9$/],
      ['{"text": "secret"', /unexpected end of input at position 17$/],
      ['{"text": "secret"} {"x"', /unexpected characters after the JSON value at position 19$/],
      ['{"text": "\\ud800\\u12"}', /bad unicode escape at position 16$/],
      ['[1, 2,]', /unexpected character where a value should start at position 6$/],
      ['{"a": 01}', /expected ',' or '}' after a property value at position 7$/],
    ];
    for (const [payload, reason] of cases) {
      const r = rejected(parse(payload, 'json'));
      assert.equal(r.code, 'invalid_json', payload);
      assert.match(r.message, /^payload is not valid JSON: /, payload);
      assert.match(r.message, reason, payload);
      assert.doesNotMatch(r.message, /secret|\\|ud800|"/, `the message quotes the payload: ${r.message}`);
    }
  });

  test('lone surrogates become U+FFFD in every string, keys included; valid pairs are kept', () => {
    const v = accepted(parse('{"text": "a\\ud800b \\ud83d\\ude00", "sessionId": "s\\udc00", "id": "i\\udbff", "meta": {"k\\ud800": ["v\\udfff", {"x": "\\ud800"}]}, "customData": "\\ud800"}'));
    assert.equal(v.text, 'a\ufffdb \u{1f600}');
    assert.equal(v.sessionId, 's\ufffd');
    assert.equal(v.id, 'i\ufffd');
    assert.deepEqual(v.request.meta, { 'k\ufffd': ['v\ufffd', { x: '\ufffd' }] });
    assert.equal(v.request.customData, '\ufffd');
    const proto = accepted(parse('{"text": "hi \\ud800", "meta": {"__proto__": {"polluted": 1}}}'));
    assert.deepEqual(Object.keys(proto.request.meta as object), ['__proto__'], '"__proto__" stays an own key');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a byte-order mark is not part of the text', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    assert.equal(accepted(parse(Buffer.concat([bom, Buffer.from('hello there')]))).text, 'hello there');
    const json = accepted(parse(Buffer.concat([bom, Buffer.from('{"text": "hello", "id": "b"}')]), 'json'));
    assert.equal(json.text, 'hello');
    assert.equal(json.id, 'b');
  });

  test('Hermes (format hermes): any siteId without control characters, up to 128; customData kept on a rejection', () => {
    for (const siteId of ['living room', 'Küche', 'kitchen-1', '+', '#', 'a/b', '$SYS', '..', 'x'.repeat(128)]) {
      assert.equal(accepted(parse({ input: 'hi', siteId }, 'hermes')).siteId, siteId);
      // Elsewhere the rule is unchanged: a payload siteId is a safe segment or rejected.
      if (siteId.length > 64) assert.equal(rejected(parse({ text: 'hi', siteId })).code, 'invalid_field', siteId);
      else if (!/^[\p{L}\p{M}\p{N}_.-]{1,64}$/u.test(siteId) || siteId === '..') assert.equal(rejected(parse({ text: 'hi', siteId })).code, 'invalid_site_id', siteId);
    }
    const nul = rejected(parse({ input: 'hi', siteId: 'a\u0000b', customData: 'cd' }, 'hermes'));
    assert.deepEqual([nul.code, nul.siteId], ['invalid_field', undefined]);
    assert.match(nul.message, /siteId contains control characters/);
    const long = rejected(parse({ input: 'hi', siteId: 'x'.repeat(129) }, 'hermes'));
    assert.deepEqual([long.code, long.siteId], ['invalid_field', undefined]);
    assert.match(long.message, /siteId is longer than 128 characters/);
    const empty = rejected(parse({ input: ' ', siteId: 'living room', customData: 'cd', id: 'q' }, 'hermes'));
    assert.deepEqual([empty.code, empty.siteId, (empty as { customData?: string }).customData], ['empty_text', 'living room', 'cd']);
    assert.equal((rejected(parse({ text: ' ', customData: 'cd' })) as { customData?: string }).customData, undefined, 'only Hermes keeps it');
  });

  test('Hermes siteIds with an invisible format character (Cf) or an unpaired surrogate are refused (invalid_field, naming siteId); visible Unicode is not', () => {
    const invisible: Array<[string, string]> = [
      ['kitchen\u200b', 'U+200B'], // zero width space: looks like "kitchen"
      ['\u202egarage', 'U+202E'], // right-to-left override: reverses what follows in a terminal or UI
      ['\ufeffkitchen', 'U+FEFF'], // a BOM inside the JSON string (the payload's own BOM is dropped before parsing)
      ['a\u2066b\u2069', 'U+2066'], // left-to-right isolate
      ['living\u00adroom', 'U+00AD'], // soft hyphen
      ['den\u{e0041}', 'U+E0041'], // a tag character (astral)
    ];
    for (const [siteId, name] of invisible) {
      const r = rejected(parse({ input: 'hi', siteId, id: 'q-1', sessionId: 's-1', customData: 'cd' }, 'hermes'));
      assert.deepEqual([r.code, r.siteId, r.id, r.sessionId], ['invalid_field', undefined, 'q-1', 's-1'], JSON.stringify(siteId));
      assert.match(r.message, new RegExp(`^siteId contains an invisible format character \\(${name.replace('+', '\\+')}, Unicode Cf\\)`), JSON.stringify(siteId));
    }
    // An escaped lone surrogate would be stored as U+FFFD: "a\ud800" and "a\udc00" would become one site.
    for (const raw of ['{"input":"hi","siteId":"a\\ud800"}', '{"input":"hi","siteId":"a\\udc00b"}']) {
      const r = rejected(parse(raw, 'hermes'));
      assert.equal(r.code, 'invalid_field', raw);
      assert.match(r.message, /^siteId contains an unpaired surrogate \(U\+D[8C]00\)/, raw);
    }
    // A surrogate pair (an emoji) is text; a lone surrogate elsewhere in the payload still becomes U+FFFD as before.
    assert.equal(accepted(parse('{"input":"hi","siteId":"\\ud83c\\udfe0 home"}', 'hermes')).siteId, '\u{1f3e0} home');
    assert.equal(accepted(parse('{"input":"hi \\ud800","siteId":"hall"}', 'hermes')).text, 'hi \ufffd');
    for (const siteId of ['Wohnzimmer Süd', 'غرفة المعيشة', 'שלום', '客厅 2', 'kitchen·1']) assert.equal(accepted(parse({ input: 'hi', siteId }, 'hermes')).siteId, siteId);
  });

  test('Hermes: the id, siteId and sessionId a query is refused for are kept as sent (its intentNotRecognized echoes them); accepted fields are not repeated there', () => {
    const refusedOf = (r: ParseResult) => (r.ok ? undefined : r.refused);
    const long = 'x'.repeat(129);
    assert.deepEqual(refusedOf(parse({ input: 'hi', siteId: 'a\u0000b', sessionId: 's-1' }, 'hermes')), { siteId: 'a\u0000b' });
    assert.deepEqual(refusedOf(parse({ input: 'hi', siteId: long, sessionId: 'bad\u0001', id: 'q' }, 'hermes')), { siteId: long, sessionId: 'bad\u0001' });
    assert.deepEqual(refusedOf(parse({ input: 'hi', siteId: '\u202egarage' }, 'hermes')), { siteId: '\u202egarage' });
    // The unpaired surrogate as sent, not the U+FFFD it would be stored as.
    assert.deepEqual(refusedOf(parse('{"input":"hi","siteId":"attic\\ud800"}', 'hermes')), { siteId: 'attic\ud800' });
    assert.equal(refusedOf(parse({ input: 'hi', siteId: 42, sessionId: 's-1' }, 'hermes'))?.siteId, undefined, 'not a string: nothing to echo');
    assert.equal(refusedOf(parse({ siteId: 'hall', sessionId: 's-1' }, 'hermes')), undefined, 'missing_text: nothing refused');
    assert.equal(refusedOf(parse({ input: 'hi', siteId: 'a\u0000b' }, 'json')), undefined, 'only Hermes');
    // Too deep: the top-level strings are still read, so the query can be answered.
    const deep = rejected(parse({ input: 'hi', siteId: 'hall\u0007', sessionId: 's-deep', customData: 'cd', meta: nested(12) }, 'hermes'));
    assert.deepEqual([deep.code, deep.sessionId, (deep as { customData?: string }).customData, (deep as { refused?: unknown }).refused], ['too_deeply_nested', 's-deep', 'cd', { siteId: 'hall\u0007' }]);
    assert.equal(rejected(parse({ input: 'hi', sessionId: 's-deep', meta: nested(12) })).sessionId, undefined, 'native payloads as before');
  });

  test('unicode site ids are accepted', () => {
    for (const site of ['客厅', 'रसोई', 'гостиная']) assert.equal(accepted(parse({ text: 'hi', siteId: site })).siteId, site);
  });
});

test('excerptOf: short, printable, marked when cut', () => {
  assert.equal(excerptOf(Buffer.from('hello')), 'hello');
  assert.equal(excerptOf(Buffer.from('a\u0000b\u0007c')), 'a·b·c');
  assert.equal(excerptOf(Uint8Array.from([0x68, 0xff, 0x69])), 'h·i');
  assert.equal(excerptOf(Buffer.from('{"siteId":"\u202egarage\u200b"}')), '{"siteId":"·garage·"}', 'format characters (Cf) are not carried into the log');
  const long = excerptOf(Buffer.from('x'.repeat(500)));
  assert.equal(long, 'x'.repeat(120) + '…');
});
