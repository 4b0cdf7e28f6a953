/**
 * Well-formed text. A JavaScript string can hold a lone surrogate (JSON
 * `"\ud800"` decodes to one); written to SQLite or a file it becomes bytes that
 * are not UTF-8. Everything hubnlu stores passes through `wellFormed()` first,
 * which replaces each lone surrogate with U+FFFD (as `String.prototype.toWellFormed` does).
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ANY_SURROGATE = /[\ud800-\udfff]/;

/** `s` with every lone surrogate replaced by U+FFFD; `s` itself when it has none (the usual case, one scan). */
export function wellFormed(s: string): string {
  if (!ANY_SURROGATE.test(s)) return s;
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** True when `s` holds no lone surrogate. */
export function isWellFormed(s: string): boolean {
  return wellFormed(s) === s;
}

/**
 * A copy of a parsed JSON value with every string, keys included, made well-formed.
 * Iterative, so a deeply nested value cannot exhaust the stack.
 */
export function wellFormedDeep(value: unknown): unknown {
  const fix = (v: unknown): unknown => (typeof v === 'string' ? wellFormed(v) : v);
  if (value === null || typeof value !== 'object') return fix(value);
  const root: unknown = Array.isArray(value) ? [] : {};
  const stack: Array<[source: object, target: Record<string, unknown> | unknown[]]> = [[value, root as Record<string, unknown>]];
  while (stack.length > 0) {
    const [source, target] = stack.pop()!;
    for (const [key, child] of Object.entries(source)) {
      let copy: unknown = fix(child);
      if (child !== null && typeof child === 'object') {
        copy = Array.isArray(child) ? [] : {};
        stack.push([child, copy as Record<string, unknown>]);
      }
      if (Array.isArray(target)) target[Number(key)] = copy;
      // defineProperty, not assignment: a "__proto__" key stays an own property, as JSON.parse made it.
      else Object.defineProperty(target, wellFormed(key), { value: copy, enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

/** Format characters (Unicode Cf: U+200B zero width space, U+202E right-to-left override, U+FEFF, …): invisible. */
const FORMAT_CHARACTER = /\p{Cf}/u;
/** What `visibleName` spells out: C0 and C1 controls, format characters, lone surrogates. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\p{Cf}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

/** The first format character (Unicode Cf) in `s`, or undefined. */
export function formatCharacterIn(s: string): string | undefined {
  return FORMAT_CHARACTER.exec(s)?.[0];
}

/** `U+202E` for a character (its first code point). */
export function codePointName(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A name from the log (a site id) shown to a person (a terminal, a log line): every control character, format
 * character (Cf: a right-to-left override or a zero-width space would make one name look like another) and lone
 * surrogate spelled out as `<U+202E>`. The input parser refuses them in new site ids; a log written before it did may
 * hold some.
 */
export function visibleName(s: string): string {
  return s.replace(INVISIBLE, (ch) => `<${codePointName(ch)}>`);
}
