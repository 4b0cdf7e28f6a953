/**
 * Seeded hostile input for the fuzz test: random bytes, truncated and mutated
 * JSON, wrong types, long strings, deep nesting, bad site ids, huge intent
 * filters, control characters, invalid UTF-8, oversized payloads, mixed with
 * valid utterances. The same seed gives the same messages, so a failure can be
 * replayed with HUBNLU_FUZZ_SEED.
 */
import { mulberry32 } from '../../src/data/random.js';
import { UTTERANCES } from './delivery.js';

/** The project's seeded PRNG (mulberry32) with the helpers the generator needs. */
export class Prng {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.random();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** `n` characters drawn from `alphabet`. */
  chars(n: number, alphabet: string): string {
    const a = Array.from(alphabet);
    let s = '';
    for (let i = 0; i < n; i++) s += a[Math.floor(this.next() * a.length)];
    return s;
  }
}

export interface FuzzMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** What the generator made, for the per-kind counts. */
  readonly kind: string;
}

const VALID_TEXTS = [
  ...UTTERANCES,
  'Schalte das Licht aus',
  '   spaces   around   ',
  'émojis 🎉 and ünïcödé',
  'tabs\tand\nnewlines are fine',
];
const SAFE_SITES = ['kitchen', 'hall', 'living_room', 'bed-room.2', 'küche', '客厅'];
/** Topic segments a publisher may legally use that are not valid site ids (control characters would get the publisher disconnected by mosquitto). */
const ODD_TOPIC_SITES = ['ki tchen', '.', '..', '$x', 'a'.repeat(65), 'x'.repeat(300), '🙂', 'semi;colon'];
const BAD_SITE_IDS = ['a/b', '#', '+', 'x\u0000y', 'x'.repeat(500), '', ' ', '..', '.', 'kü/che', '$SYS', 'a+b', '\u202eevil', 'new\nline', '/', 'hubnlu/+/result'];
const WEIRD_VALUES: readonly unknown[] = [null, true, false, 0, -1, 1e308, -0.5, '', [], {}, [1, 2], { a: 1 }, 'x'.repeat(2000), [null], { text: 'nested' }];
const CONTROL = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b', '\u000b', '\u000c'];
const INVALID_UTF8 = [
  [0xc3, 0x28],
  [0xa0, 0xa1],
  [0xe2, 0x28, 0xa1],
  [0xf0, 0x28, 0x8c, 0xbc],
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
  [0xc0, 0xaf], // overlong '/'
  [0xff, 0xfe, 0xfd],
];

/** Generates `count` messages from `seed`. `maxPayloadBytes` is the agent's limit (some payloads exceed it). */
export function* fuzzMessages(seed: number, count: number, maxPayloadBytes = 16384): Generator<FuzzMessage> {
  const r = new Prng(seed);
  let n = 0;
  const uniqueId = (): string => `fz-${n}-${r.chars(8, '0123456789abcdef')}`;
  const utterance = (): string => r.pick(VALID_TEXTS);
  const siteTopic = (): string => {
    const roll = r.next();
    if (roll < 0.85) return `hubnlu/${r.pick(SAFE_SITES)}/utterance`;
    return `hubnlu/${r.pick(ODD_TOPIC_SITES)}/utterance`;
  };
  const topic = (): string => {
    const roll = r.next();
    if (roll < 0.7) return siteTopic();
    return roll < 0.85 ? 'hermes/asr/textCaptured' : 'hermes/nlu/query';
  };
  const validObject = (): Record<string, unknown> => {
    const o: Record<string, unknown> = { id: uniqueId(), text: utterance() };
    if (r.chance(0.3)) o.siteId = r.pick(SAFE_SITES);
    if (r.chance(0.3)) o.sessionId = `s-${r.int(0, 1e6)}`;
    if (r.chance(0.2)) o.lang = r.pick(['en', 'de', 'en-GB']);
    if (r.chance(0.2)) o.meta = { source: 'fuzz', n };
    if (r.chance(0.1)) o.tasks = r.pick([['intent'], ['sentiment'], ['intent', 'sentiment']]);
    return o;
  };
  const hermesObject = (): Record<string, unknown> => ({ input: utterance(), id: uniqueId(), siteId: r.pick(SAFE_SITES), sessionId: `s-${n}` });
  const nested = (depth: number): string => {
    const open = r.chance(0.5) ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    return open.repeat(depth) + '1' + close.repeat(depth);
  };

  const kinds: Array<[string, number, () => { topic: string; payload: Buffer | string }]> = [
    ['valid-text', 8, () => ({ topic: siteTopic(), payload: utterance() })],
    ['valid-json', 12, () => ({ topic: siteTopic(), payload: JSON.stringify(validObject()) })],
    ['valid-hermes', 4, () => ({ topic: r.pick(['hermes/asr/textCaptured', 'hermes/nlu/query']), payload: JSON.stringify(hermesObject()) })],
    ['random-bytes', 10, () => ({ topic: topic(), payload: r.bytes(r.int(0, 300)) })],
    [
      'truncated-json',
      10,
      () => {
        const s = JSON.stringify(r.chance(0.5) ? validObject() : hermesObject());
        return { topic: topic(), payload: s.slice(0, r.int(1, s.length - 1)) };
      },
    ],
    [
      'wrong-types',
      10,
      () => {
        const o: Record<string, unknown> = validObject();
        const field = r.pick(['text', 'id', 'siteId', 'sessionId', 'lang', 'tasks', 'meta', 'intentFilter', 'customData', 'input']);
        o[field] = r.pick(WEIRD_VALUES);
        if (field === 'id' && typeof o.id === 'number') o.id = 1e9 + n; // numeric ids are accepted: keep them unique
        if (r.chance(0.2)) delete o.text;
        return { topic: topic(), payload: JSON.stringify(o) };
      },
    ],
    [
      'long-strings',
      5,
      () => {
        const o: Record<string, unknown> = validObject();
        const field = r.pick(['text', 'text', 'id', 'siteId', 'sessionId', 'lang']);
        o[field] = r.chars(field === 'text' ? r.int(1001, 8000) : r.int(129, 3000), 'abc xyz');
        return { topic: siteTopic(), payload: JSON.stringify(o) };
      },
    ],
    ['deep-nesting', 5, () => ({ topic: topic(), payload: `{"id":"${uniqueId()}","text":"hi","meta":${nested(r.int(8, 4000))}}` })],
    [
      'bad-site-id',
      8,
      () => {
        const o = validObject();
        o.siteId = r.pick(BAD_SITE_IDS);
        return { topic: topic(), payload: JSON.stringify(o) };
      },
    ],
    [
      'intent-filter',
      5,
      () => {
        const o: Record<string, unknown> = hermesObject();
        const len = r.pick([0, 1, 3, 50, 255, 256, 257, 600, 2000]);
        const mixed = r.chance(0.3); // some lists carry a non-string or over-long item
        o.intentFilter = Array.from({ length: len }, () =>
          !mixed || r.chance(0.97) ? r.pick(['iot_hue_lightoff', 'weather_query', 'alarm_set', r.chars(r.int(1, mixed ? 140 : 40), 'ab_')]) : r.pick(WEIRD_VALUES),
        );
        return { topic: r.chance(0.7) ? 'hermes/nlu/query' : siteTopic(), payload: JSON.stringify(o) };
      },
    ],
    [
      'control-chars',
      5,
      () => {
        const text = utterance();
        const at = r.int(0, text.length);
        const bad = text.slice(0, at) + r.pick(CONTROL) + text.slice(at);
        return { topic: siteTopic(), payload: r.chance(0.5) ? bad : JSON.stringify({ id: uniqueId(), text: bad }) };
      },
    ],
    ['too-large', 2, () => ({ topic: topic(), payload: r.chars(r.int(maxPayloadBytes + 1, maxPayloadBytes * 4), 'abcdefgh ') })],
    [
      'mutated-json',
      10,
      () => {
        const buf = Buffer.from(JSON.stringify(r.chance(0.6) ? validObject() : hermesObject()));
        for (let k = r.int(1, 4); k > 0; k--) {
          const at = r.int(0, buf.length - 1);
          const op = r.int(0, 2);
          if (op === 0) buf[at] ^= 1 << r.int(0, 7);
          else if (op === 1) buf[at] = r.int(0, 255);
          else buf[at] = r.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x5c]); // " { } [ ] : , \
        }
        return { topic: topic(), payload: buf };
      },
    ],
    [
      'invalid-utf8',
      3,
      () => {
        const text = Buffer.from(utterance());
        const at = r.int(0, text.length);
        return { topic: siteTopic(), payload: Buffer.concat([text.subarray(0, at), Buffer.from(r.pick(INVALID_UTF8)), text.subarray(at)]) };
      },
    ],
    ['json-not-object', 2, () => ({ topic: topic(), payload: r.pick(['[]', '[1,2,3]', '42', '"text"', 'null', 'true', '[{"text":"hi"}]', '{}', '{"text":""}', '{"text":"   "}']) })],
    ['whitespace', 1, () => ({ topic: siteTopic(), payload: r.pick(['', ' ', '\n\t', '\ufeff', '\ufeff   ']) })],
  ];
  const total = kinds.reduce((s, k) => s + k[1], 0);
  for (n = 0; n < count; n++) {
    let roll = r.next() * total;
    let chosen = kinds[kinds.length - 1];
    for (const k of kinds) {
      roll -= k[1];
      if (roll < 0) {
        chosen = k;
        break;
      }
    }
    const made = chosen[2]();
    yield { kind: chosen[0], topic: made.topic, payload: Buffer.isBuffer(made.payload) ? made.payload : Buffer.from(made.payload) };
  }
}
