/**
 * Topic safety. Anything derived from a payload (site ids, intent names) is
 * checked before it becomes a topic segment, and no publish topic may hold a
 * wildcard [MQTT-3.3.2-2].
 */
import { createHash } from 'node:crypto';

/**
 * Letters (with their combining marks: "रसोई", "café" in NFD), digits, `_`, `.` and `-`; at most 64 code points.
 * Marks matter: Devanagari, Thai or Tamil room names cannot be written without them.
 */
const SEGMENT_RE = /^[\p{L}\p{M}\p{N}_.-]{1,64}$/u;

export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

export function isSafeSegment(segment: string): boolean {
  return SEGMENT_RE.test(segment) && segment !== '.' && segment !== '..';
}

/** Makes any string a safe segment: unsafe characters become `_`, length capped. Used where rejecting is not an option (the error topic of a bad site id). */
export function escapeSegment(segment: string): string {
  const escaped = Array.from(segment.replace(/[^\p{L}\p{M}\p{N}_.-]/gu, '_')).slice(0, 64).join('');
  return escaped === '' || escaped === '.' || escaped === '..' ? '_' : escaped;
}

/**
 * A free-form site id (Hermes allows any: "living room", "$SYS", "a/b") as one topic level: itself when it is a safe
 * segment; otherwise escaped (escapeSegment), cut to 55 code points, plus `-` and 8 hex digits of its SHA-256, so
 * that two ids that escape alike ("living room", "living+room", and the safe "living_room") get different levels.
 */
export function siteSegment(siteId: string): string {
  if (isSafeSegment(siteId)) return siteId;
  const hash = createHash('sha256').update(siteId).digest('hex').slice(0, 8);
  return `${Array.from(escapeSegment(siteId)).slice(0, 55).join('')}-${hash}`;
}

const UNPUBLISHABLE_RE = /[+#\u0000]/;

/** Throws unless `topic` is a valid publish topic: non-empty, no wildcards, no NUL, within the MQTT length limit. */
export function assertPublishTopic(topic: string): void {
  if (topic.length === 0) throw new TopicError('empty publish topic');
  if (UNPUBLISHABLE_RE.test(topic)) throw new TopicError(`publish topic contains a wildcard or NUL: ${JSON.stringify(topic)}`);
  // A UTF-16 code unit is at most 3 bytes of UTF-8: only a long topic needs counting (every publish passes here).
  if (topic.length > 21845 && Buffer.byteLength(topic) > 65535) throw new TopicError('publish topic longer than 65535 bytes');
}

/** Whether `filter` is a valid subscription [MQTT-4.7.1]: `+` and `#` fill a whole level, `#` only the last; no NUL. */
export function isValidFilter(filter: string): boolean {
  const levels = filterOf(filter).split('/');
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  return levels.every((level, i) => level === '+' || (level === '#' && i === levels.length - 1) || !/[+#]/.test(level));
}

/** Whether some topic matches both filters (shared-subscription prefixes ignored). */
export function filtersOverlap(a: string, b: string): boolean {
  const x = filterOf(a).split('/');
  const y = filterOf(b).split('/');
  for (let i = 0; ; i++) {
    if (x[i] === '#' || y[i] === '#') return true;
    if (i >= x.length || i >= y.length) return x.length === y.length;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
}

/** Fills `{name}` placeholders; every value must already be a safe segment. */
export function renderTopic(template: string, values: Record<string, string>): string {
  const topic = template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new TopicError(`unknown placeholder ${whole} in topic template ${JSON.stringify(template)}`);
    return value;
  });
  assertPublishTopic(topic);
  return topic;
}

/**
 * The subscription for `filter` in share group `group` [MQTT-4.8.2]: `$share/<group>/<filter>`. The broker delivers
 * each message to one subscriber of the group, with the message's own topic (not the `$share/...` filter).
 * Without a group, or for a filter that is already shared, the filter itself.
 */
export function sharedFilter(filter: string, group: string | undefined): string {
  return group === undefined || filter.startsWith('$share/') ? filter : `$share/${group}/${filter}`;
}

/** Strips a shared-subscription prefix: `$share/group/a/+/b` → `a/+/b`. */
export function filterOf(subscription: string): string {
  return subscription.startsWith('$share/') ? subscription.split('/').slice(2).join('/') : subscription;
}

/** Subscriptions split into levels, by subscription: every input is matched against every route's filter. */
const levelsOf = new Map<string, readonly string[]>();

function filterLevels(subscription: string): readonly string[] {
  let levels = levelsOf.get(subscription);
  if (levels === undefined) {
    levels = filterOf(subscription).split('/');
    // The filters are the configuration's, a handful; a caller matching arbitrary filters must not grow this forever.
    if (levelsOf.size >= 256) levelsOf.clear();
    levelsOf.set(subscription, levels);
  }
  return levels;
}

/**
 * Matches a topic against a filter and returns the values the wildcards took,
 * or null when it does not match. `$`-topics never match a leading wildcard [MQTT-4.7.2-1].
 */
export function matchTopic(subscription: string, topic: string): string[] | null {
  const filter = filterLevels(subscription);
  const parts = topic.split('/');
  if ((filter[0] === '+' || filter[0] === '#') && topic.startsWith('$')) return null;
  const captured: string[] = [];
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '#') {
      captured.push(parts.slice(i).join('/'));
      return captured;
    }
    if (i >= parts.length) return null;
    if (filter[i] === '+') captured.push(parts[i]);
    else if (filter[i] !== parts[i]) return null;
  }
  return parts.length === filter.length ? captured : null;
}
