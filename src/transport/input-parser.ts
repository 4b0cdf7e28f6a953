/**
 * Turns an MQTT payload into an utterance, or into a precise rejection.
 *
 * Accepted: plain UTF-8 text, or a JSON object with `text` (Hermes: `input`),
 * optional `id`, `siteId`, `sessionId`, `lang`, `meta`, `tasks`, and the Hermes
 * fields `customData`, `intentFilter`. Everything a publisher can send is
 * either accepted or rejected with a code; nothing here throws.
 */
import { TASKS, type TaskName } from '../model/tasks.js';
import { codePointName, formatCharacterIn, wellFormed, wellFormedDeep } from '../util/text-safety.js';
import { scanJson } from './json-scan.js';
import { isSafeSegment } from './topics.js';

export type PayloadFormat = 'auto' | 'text' | 'json' | 'hermes';

export type RejectionCode =
  | 'payload_too_large'
  | 'invalid_utf8'
  | 'invalid_json'
  | 'json_not_object'
  | 'too_deeply_nested'
  | 'missing_text'
  | 'invalid_field'
  | 'empty_text'
  | 'text_too_long'
  | 'control_characters'
  | 'invalid_site_id'
  | 'too_many_items';

export interface ParsedUtterance {
  readonly text: string;
  readonly id?: string;
  readonly siteId?: string;
  readonly sessionId?: string;
  readonly lang?: string;
  readonly tasks?: readonly TaskName[];
  /** Fields echoed back in results (Hermes `customData`, `intentFilter`, the caller's `meta`). */
  readonly request: Record<string, unknown>;
}

export interface ParseFailure {
  readonly code: RejectionCode;
  readonly message: string;
  /** Whatever could be read before the failure, so the error can be correlated. */
  readonly id?: string;
  readonly siteId?: string;
  readonly sessionId?: string;
  /** Hermes `customData` (a string), kept from a rejected payload: Rhasspy apps match intentNotRecognized by it. */
  readonly customData?: string;
  /**
   * Hermes: `id`, `siteId`, `sessionId` the parser refused (control or format characters, too long, an unpaired
   * surrogate), each as sent when it was a JSON string. Never a topic level or the site column (they get `default`):
   * only the rejected query's `hermes/nlu/intentNotRecognized` payload echoes them, JSON-escaped (and the row's request
   * JSON keeps them, escaped too), so that the dialogue manager that sent the query finds its answer.
   */
  readonly refused?: { readonly id?: string; readonly siteId?: string; readonly sessionId?: string };
}

/** The longest Hermes siteId (Rhasspy's are free-form: "living room"); native payload siteIds stay safe segments of at most 64. */
export const HERMES_SITE_ID_MAX = 128;

export type ParseResult = { readonly ok: true; readonly value: ParsedUtterance } | ({ readonly ok: false } & ParseFailure);

export interface ParseLimits {
  readonly maxPayloadBytes: number;
  readonly maxTextChars: number;
  readonly maxDepth?: number;
  readonly maxListItems?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
/** C0 and C1 controls other than tab, line feed and carriage return. */
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const KNOWN_TASKS: readonly string[] = TASKS;

function fail(code: RejectionCode, message: string, partial: Partial<ParseFailure> = {}): ParseResult {
  return { ok: false, code, message, ...partial };
}

/** Depth of nested arrays/objects, computed without recursion so hostile input cannot blow the stack. */
function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Object.values(node as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return max;
}

function optionalString(obj: Record<string, unknown>, key: string, maxLength: number, rawNumber?: string): { value?: string; error?: string } {
  const v = obj[key];
  // An empty id is no id: the agent assigns one, so results stay distinguishable.
  if (v === undefined || v === null || (v === '' && key === 'id')) return {};
  // A numeric id is kept exactly as written: 12345678901234567890123 would otherwise become 1.2345678901234568e+22 and collide with …124.
  if (typeof v === 'number' && key === 'id' && rawNumber !== undefined) {
    return rawNumber.length > maxLength ? { error: `${key} is longer than ${maxLength} characters` } : { value: rawNumber };
  }
  if (typeof v !== 'string') return { error: `${key} must be a string (got ${Array.isArray(v) ? 'array' : typeof v})` };
  if (v.length > maxLength) return { error: `${key} is longer than ${maxLength} characters` };
  if (CONTROL_RE.test(v)) return { error: `${key} contains control characters` };
  return { value: v };
}

export function checkText(text: string, limits: ParseLimits, partial: Partial<ParseFailure> = {}): ParseResult | null {
  if (text.trim().length === 0) return fail('empty_text', 'text is empty or whitespace only', partial);
  if (text.length > limits.maxTextChars) {
    return fail('text_too_long', `text has ${text.length} characters; the limit is input.maxTextChars = ${limits.maxTextChars}`, partial);
  }
  if (CONTROL_RE.test(text)) return fail('control_characters', 'text contains control characters (only tab and line breaks are allowed)', partial);
  return null;
}

export function parsePayload(payload: Uint8Array, format: PayloadFormat, limits: ParseLimits): ParseResult {
  if (payload.byteLength > limits.maxPayloadBytes) {
    return fail('payload_too_large', `payload is ${payload.byteLength} bytes; the limit is input.maxPayloadBytes = ${limits.maxPayloadBytes}`);
  }
  let body: string;
  try {
    body = decoder.decode(payload);
  } catch {
    return fail('invalid_utf8', 'payload is not valid UTF-8');
  }
  if (body.charCodeAt(0) === 0xfeff) body = body.slice(1); // a BOM is not part of the text
  const trimmed = body.trimStart();
  const looksJson = trimmed.startsWith('{') || trimmed.startsWith('[');
  if (format === 'text' || (format === 'auto' && !looksJson)) {
    const problem = checkText(body, limits);
    return problem ?? { ok: true, value: { text: body.trim(), request: {} } };
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    // A fixed reason and a position: V8's message would quote the payload, escapes and all, into the stored error.
    const scan = scanJson(body);
    return fail('invalid_json', scan.ok ? 'payload is not valid JSON' : `payload is not valid JSON: ${scan.reason} at position ${scan.position}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail('json_not_object', `a JSON payload must be an object with a "text" field (got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data})`);
  }
  const hermes = format === 'hermes';
  // The siteId as sent, before any lone surrogate becomes U+FFFD: a refused one is echoed exactly (FieldsRead.refused).
  const site = (data as Record<string, unknown>).siteId;
  const sentSite = typeof site === 'string' ? site : undefined;
  // "\ud800" decodes to a lone surrogate, which no stored or published text may hold: each becomes U+FFFD. A Hermes
  // siteId with one is refused instead (parseObject): two ids that differ only there would become the same site.
  const hasSurrogate = LONE_SURROGATE_ESCAPE.test(body);
  const siteSurrogate = hasSurrogate && sentSite !== undefined ? LONE_SURROGATE.exec(sentSite)?.[0] : undefined;
  const maxDepth = limits.maxDepth ?? 8;
  if (depthOf(data, maxDepth) > maxDepth) {
    // A Hermes query's correlation fields are top-level strings, readable without walking the nesting: its
    // intentNotRecognized can still name the session (hermes.ts).
    const partial = hermes ? readFields(topLevelStrings(data as Record<string, unknown>), true, undefined, sentSite, siteSurrogate).partial : {};
    return fail('too_deeply_nested', `JSON nests deeper than ${maxDepth} levels`, partial);
  }
  if (hasSurrogate) data = wellFormedDeep(data);
  const obj = data as Record<string, unknown>;
  let rawId: string | undefined;
  if (typeof obj.id === 'number') {
    const scan = scanJson(body);
    rawId = scan.ok ? scan.topLevelNumbers.get('id') : undefined;
  }
  return parseObject(obj, limits, rawId, hermes, sentSite, siteSurrogate);
}

/** The top-level string fields a rejection is correlated by, made well-formed (nothing nested is read). */
function topLevelStrings(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['id', 'siteId', 'sessionId', 'customData']) if (typeof obj[key] === 'string') out[key] = wellFormed(obj[key] as string);
  return out;
}

/** A `\uD800`–`\uDFFF` escape: the only way a payload that decoded as UTF-8 can yield a lone surrogate. */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a free-form (Hermes) siteId is refused beyond control characters and length, or undefined: a format character
 * (Unicode Cf: U+202E right-to-left override, U+200B zero width space, U+FEFF, …) is invisible, so `kitchen` and
 * `kitchen` + U+200B, or an id reversed by U+202E, would look alike in logs and UIs while naming different sites; a lone
 * surrogate (`siteSurrogate`, seen before the payload was made well-formed) would be stored as U+FFFD, merging ids.
 */
function invisibleInSiteId(siteId: string, siteSurrogate?: string): string | undefined {
  const cf = formatCharacterIn(siteId);
  if (cf) return `siteId contains an invisible format character (${codePointName(cf)}, Unicode Cf) that would make it look like another siteId; send the site's name without it`;
  if (siteSurrogate) return `siteId contains an unpaired surrogate (${codePointName(siteSurrogate)}), which is not text; send the site's name as valid UTF-16 / UTF-8`;
  return undefined;
}

/**
 * `hermes`: the payload is a Hermes query or textCaptured, whose siteId is free-form (any text without control
 * characters, format characters or lone surrogates, at most HERMES_SITE_ID_MAX): it is echoed on the Hermes topics as sent, and becomes a topic level only
 * through siteSegment (intake). Elsewhere a siteId must be a safe segment itself.
 */
interface FieldsRead {
  readonly id: { value?: string; error?: string };
  readonly siteId: { value?: string; error?: string };
  readonly sessionId: { value?: string; error?: string };
  readonly siteOk: boolean;
  readonly partial: Partial<ParseFailure>;
}

/** The fields a result or a rejection is correlated by: id, siteId, sessionId (and Hermes customData), checked. */
function readFields(obj: Record<string, unknown>, hermes: boolean, rawId?: string, sentSite?: string, siteSurrogate?: string): FieldsRead {
  const id = optionalString(obj, 'id', 128, rawId);
  let siteId = optionalString(obj, 'siteId', hermes ? HERMES_SITE_ID_MAX : 64);
  const invisible = hermes && siteId.value !== undefined ? invisibleInSiteId(siteId.value, siteSurrogate) : undefined;
  if (invisible) siteId = { error: invisible };
  const sessionId = optionalString(obj, 'sessionId', 128);
  const siteOk = siteId.value !== undefined && (hermes || isSafeSegment(siteId.value));
  // The payload is within input.maxPayloadBytes, so customData is too.
  const customData = hermes && typeof obj.customData === 'string' ? obj.customData : undefined;
  let refused: { id?: string; siteId?: string; sessionId?: string } | undefined;
  if (hermes && (id.error || siteId.error || sessionId.error)) {
    const asSent = (key: string, field: { error?: string }, sent: unknown): Record<string, string> => (field.error && typeof sent === 'string' ? { [key]: sent } : {});
    refused = { ...asSent('id', id, obj.id), ...asSent('siteId', siteId, sentSite), ...asSent('sessionId', sessionId, obj.sessionId) };
  }
  const partial = { id: id.value, siteId: siteOk ? siteId.value : undefined, sessionId: sessionId.value, customData, ...(refused ? { refused } : {}) };
  return { id, siteId, sessionId, siteOk, partial };
}

function parseObject(obj: Record<string, unknown>, limits: ParseLimits, rawId?: string, hermes = false, sentSite?: string, siteSurrogate?: string): ParseResult {
  const { id, siteId, sessionId, siteOk, partial } = readFields(obj, hermes, rawId, sentSite, siteSurrogate);
  for (const field of [id, siteId, sessionId]) if (field.error) return fail('invalid_field', field.error, partial);
  if (siteId.value !== undefined && !siteOk) {
    return fail('invalid_site_id', 'siteId may hold only letters, digits, "_", "." and "-" (at most 64); "/", "+", "#" would change the topic', partial);
  }
  const lang = optionalString(obj, 'lang', 16);
  if (lang.error) return fail('invalid_field', lang.error, partial);

  const textKey = obj.text !== undefined ? 'text' : obj.input !== undefined ? 'input' : undefined;
  if (textKey === undefined) return fail('missing_text', 'JSON payload has no "text" (or Hermes "input") field', partial);
  const text = obj[textKey];
  if (typeof text !== 'string') return fail('invalid_field', `${textKey} must be a string (got ${Array.isArray(text) ? 'array' : text === null ? 'null' : typeof text})`, partial);
  const problem = checkText(text, limits, partial);
  if (problem) return problem;

  const maxItems = limits.maxListItems ?? 256;
  const request: Record<string, unknown> = {};
  let tasks: TaskName[] | undefined;
  if (obj.tasks !== undefined) {
    if (!Array.isArray(obj.tasks) || obj.tasks.length === 0 || !obj.tasks.every((t) => typeof t === 'string' && KNOWN_TASKS.includes(t))) {
      return fail('invalid_field', 'tasks must be a non-empty list drawn from ["intent", "sentiment"]', partial);
    }
    tasks = [...new Set(obj.tasks as TaskName[])];
  }
  if (obj.intentFilter !== undefined && obj.intentFilter !== null) {
    if (!Array.isArray(obj.intentFilter) || !obj.intentFilter.every((x) => typeof x === 'string' && x.length <= 128)) {
      return fail('invalid_field', 'intentFilter must be a list of intent names or null', partial);
    }
    if (obj.intentFilter.length > maxItems) return fail('too_many_items', `intentFilter lists ${obj.intentFilter.length} intents; at most ${maxItems}`, partial);
    request.intentFilter = obj.intentFilter;
  }
  if (obj.customData !== undefined && obj.customData !== null) {
    if (typeof obj.customData !== 'string') return fail('invalid_field', 'customData must be a string or null', partial);
    request.customData = obj.customData;
  }
  if (obj.meta !== undefined) {
    if (obj.meta === null || typeof obj.meta !== 'object' || Array.isArray(obj.meta)) return fail('invalid_field', 'meta must be an object', partial);
    if (Object.keys(obj.meta).length > maxItems) return fail('too_many_items', `meta has more than ${maxItems} keys`, partial);
    request.meta = obj.meta;
  }
  for (const key of ['asrConfidence', 'wakewordId', 'asrTokens'] as const) if (obj[key] !== undefined) request[key] = obj[key];
  return {
    ok: true,
    value: { text: text.trim(), id: id.value, siteId: siteId.value, sessionId: sessionId.value, lang: lang.value, tasks, request },
  };
}

/**
 * A short, printable excerpt of a payload for error messages and the log: controls, invalid UTF-8 and format
 * characters (Cf: a right-to-left override would reorder the log line it is shown in) become `·`.
 */
export function excerptOf(payload: Uint8Array, max = 120): string {
  const slice = Buffer.from(payload.subarray(0, max * 4)).toString('utf8');
  // eslint-disable-next-line no-control-regex
  const printable = slice.replace(/[\u0000-\u001f\u007f-\u009f\ufffd\p{Cf}]/gu, '·');
  return Array.from(printable).slice(0, max).join('') + (payload.byteLength > max ? '…' : '');
}
