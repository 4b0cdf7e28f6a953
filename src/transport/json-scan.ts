/**
 * A small JSON syntax scanner, for what `JSON.parse` does not tell:
 * - where a payload stops being JSON, as a fixed reason and a position. V8's own
 *   messages quote the payload ("Unexpected token '}', "{"a":}" is not valid JSON"),
 *   and a rejection's stored `error_message` must never carry payload bytes;
 * - the exact source text of the top-level number fields, so a numeric `id`
 *   such as 12345678901234567890123 is kept as sent, not rounded to a double.
 *
 * Iterative (an explicit stack), so hostile nesting cannot exhaust the call stack.
 * Positions are UTF-16 offsets into the decoded payload, 0-based, as in `JSON.parse`.
 */

export type JsonScan =
  | { readonly ok: true; readonly topLevelNumbers: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly position: number; readonly reason: string };

const OBJECT = 1;
const ARRAY = 2;

export function scanJson(s: string): JsonScan {
  const n = s.length;
  const stack: number[] = [];
  const numbers = new Map<string, string>();
  let i = 0;
  let topKey: string | null = null;
  const fail = (reason: string, position = i): JsonScan => ({ ok: false, position, reason: i >= n ? 'unexpected end of input' : reason });
  const ws = (): void => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  /** Reads a string starting at `"`; returns null on success, else the failure. */
  const readString = (): JsonScan | null => {
    i++;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return fail('control character inside a string');
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) return fail('bad unicode escape');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return fail('bad escape sequence');
        i += 2;
        continue;
      }
      i++;
    }
    return fail('unterminated string');
  };
  const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

  let state: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    ws();
    if (state === 'value') {
      if (i >= n) return fail('');
      const c = s[i];
      if (c === '{' || c === '[') {
        i++;
        ws();
        if (s[i] === (c === '{' ? '}' : ']')) {
          i++;
          state = 'after';
        } else {
          stack.push(c === '{' ? OBJECT : ARRAY);
          state = c === '{' ? 'key' : 'value';
        }
      } else if (c === '"') {
        const bad = readString();
        if (bad) return bad;
        state = 'after';
      } else if (c === '-' || (c >= '0' && c <= '9')) {
        NUMBER_RE.lastIndex = i;
        const m = NUMBER_RE.exec(s);
        if (!m) return fail('malformed number');
        if (stack.length === 1 && stack[0] === OBJECT && topKey !== null) numbers.set(topKey, m[0]);
        i += m[0].length;
        state = 'after';
      } else {
        const word = s.startsWith('true', i) ? 'true' : s.startsWith('false', i) ? 'false' : s.startsWith('null', i) ? 'null' : null;
        if (!word) return fail('unexpected character where a value should start');
        i += word.length;
        state = 'after';
      }
    } else if (state === 'key') {
      if (s[i] !== '"') return fail('expected a property name in double quotes');
      const start = i;
      const bad = readString();
      if (bad) return bad;
      if (stack.length === 1) topKey = JSON.parse(s.slice(start, i)) as string;
      ws();
      if (s[i] !== ':') return fail("expected ':' after a property name");
      i++;
      state = 'value';
    } else {
      if (stack.length === 0) {
        if (i < n) return fail('unexpected characters after the JSON value');
        return { ok: true, topLevelNumbers: numbers };
      }
      const top = stack[stack.length - 1];
      const c = s[i];
      if (c === ',') {
        i++;
        state = top === OBJECT ? 'key' : 'value';
      } else if ((top === OBJECT && c === '}') || (top === ARRAY && c === ']')) {
        stack.pop();
        i++;
      } else {
        return fail(top === OBJECT ? "expected ',' or '}' after a property value" : "expected ',' or ']' after an array element");
      }
    }
  }
}
