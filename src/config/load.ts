/**
 * Loads, merges and validates the configuration.
 *
 * Sources, lowest to highest precedence: schema defaults, the YAML file
 * (`--config FILE`, else `HUBNLU_CONFIG`, else `config/hubnlu.yaml` when present),
 * then `HUBNLU_*` environment variables derived from the schema. Every problem is
 * collected and reported as `path: problem (how to fix)`; nothing is started
 * until the whole configuration is valid.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { isValidCron } from '../util/cron.js';
import { redactUrl } from '../util/redact.js';
import type { TSchema } from '@sinclair/typebox';
import { checkHomeAssistantSettings } from '../extensions/home-assistant/settings.js';
import { ConfigSchema, listSettings, type Config, type SettingDoc } from './schema.js';
import { checkBrokerChannel } from './broker-checks.js';
import { filtersOverlap, isValidFilter } from '../transport/topics.js';
import { stateTopics } from '../extensions/home-assistant/discovery.js';
import { configValidator } from './validator.js';
import { requireForOnce } from '../util/heap.js';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[], readonly source: string) {
    super(`invalid configuration (${source}):\n` + problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  readonly config: Config;
  /** Where the settings came from, for `config check` and the start-up line. */
  readonly source: string;
}

export interface LoadOptions {
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Extra values applied after the file and the environment (tests, CLI flags). */
  readonly overrides?: Record<string, unknown>;
}

const SETTINGS = listSettings();

/** The schema at a config path; numeric segments step into list items (`input.topics.0.format`). */
function schemaAt(path: string): TSchema | undefined {
  let node: TSchema | undefined = ConfigSchema;
  for (const key of path ? path.split('.') : []) {
    node = /^\d+$/.test(key)
      ? (node?.items as TSchema | undefined)
      : ((node?.properties as Record<string, TSchema> | undefined)?.[key] ?? recordValue(node, key));
    if (!node) return undefined;
  }
  return node;
}

/** The schema of a record's entry (`models.languages.de`): the pattern property whose pattern `key` matches. */
function recordValue(node: TSchema | undefined, key: string): TSchema | undefined {
  const patterns = node?.patternProperties as Record<string, TSchema> | undefined;
  return Object.entries(patterns ?? {}).find(([pattern]) => new RegExp(pattern).test(key))?.[1];
}

/** The fix hint of the setting at `path`, else of its nearest ancestor that has one (a list item's field, a list entry). */
function hintAt(path: string): string | undefined {
  const keys = path ? path.split('.') : [];
  for (let n = keys.length; n > 0; n--) {
    const hint = (schemaAt(keys.slice(0, n).join('.')) as { hint?: string } | undefined)?.hint;
    if (hint) return hint;
  }
  return undefined;
}

/** Edit distance with adjacent transpositions (`ulr` → `url` is 1). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** What an unknown key probably meant: the same name elsewhere below `parent` (`mqtt.host` → `mqtt.embedded.host`), else a near spelling beside it (`storage.pth` → `storage.path`). */
function suggestKey(parent: string, key: string): string | undefined {
  const prefix = parent ? `${parent}.` : '';
  const lower = key.toLowerCase();
  const moved = SETTINGS.map((s) => s.path).find((p) => p.startsWith(prefix) && (p.toLowerCase().endsWith(`.${lower}`) || p.toLowerCase() === lower));
  if (moved) return moved;
  const siblings = Object.keys((schemaAt(parent)?.properties as Record<string, TSchema> | undefined) ?? {});
  let best: { name: string; distance: number } | undefined;
  for (const name of siblings) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= Math.max(1, Math.floor(key.length / 3)) && (!best || distance < best.distance)) best = { name, distance };
  }
  return best ? `${prefix}${best.name}` : undefined;
}

const SETTING_ENVS = new Set(SETTINGS.map((s) => s.env));
/** `HUBNLU_MQTT_`, `HUBNLU_INPUT_`, …: one prefix per top-level section of the schema. */
const SECTION_PREFIXES = [...new Set(SETTINGS.filter((s) => s.path.includes('.')).map((s) => `HUBNLU_${s.env.slice('HUBNLU_'.length).split('_')[0]}_`))];

/**
 * A variable under a section's prefix that names no setting (`HUBNLU_MQTT_CLEINT_ID`) would be ignored without a
 * word, and the agent would run on the default it was meant to replace. Other `HUBNLU_*` names (HUBNLU_CONFIG,
 * HUBNLU_DATASETS, the tests' switches) are not settings and are left alone.
 */
function unknownEnvSettings(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (SETTING_ENVS.has(name) || env[name] === undefined) continue;
    const section = SECTION_PREFIXES.find((prefix) => name.startsWith(prefix));
    if (section === undefined) continue;
    const inSection = [...SETTING_ENVS].filter((e) => e.startsWith(section));
    const rest = name.slice(section.length);
    // The same name one level off (HUBNLU_MQTT_PORT → HUBNLU_MQTT_EMBEDDED_PORT), else a near spelling.
    let guess = inSection.find((e) => e.endsWith(`_${rest}`));
    // A part of a list or object setting (HUBNLU_MODELS_LANGUAGES_DE_INTENT): the setting takes the whole value as JSON.
    const whole = SETTINGS.find((s) => (s.schema.type === 'object' || s.schema.type === 'array') && name.startsWith(`${s.env}_`));
    if (guess === undefined && whole !== undefined) guess = `${whole.env} (the whole ${whole.schema.type === 'array' ? 'list' : 'object'}, as JSON)`;
    if (guess === undefined) {
      let best = Infinity;
      for (const e of inSection) {
        const distance = editDistance(rest, e.slice(section.length));
        if (distance <= Math.max(1, Math.floor(rest.length / 3)) && distance < best) [guess, best] = [e, distance];
      }
    }
    problems.push(
      `${name}: no setting has this environment variable (${guess ? `did you mean ${guess}? ` : ''}unset it or fix its name; \`hubnlu config schema\` lists every setting with its variable)`,
    );
  }
  return problems;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** Turns an environment string into the type the schema asks for; leaves it a string when it doesn't parse (validation then names the problem). */
function coerce(setting: SettingDoc, raw: string): unknown {
  const type = setting.schema.type;
  // A choice of numbers (mqtt.protocolVersion: 5 | 4) has no `type`, only `anyOf` constants.
  const numericChoice = Array.isArray(setting.schema.anyOf) && (setting.schema.anyOf as TSchema[]).every((s) => typeof s.const === 'number');
  if (type === 'integer' || type === 'number' || numericChoice) return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (type === 'array' || type === 'object') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * The YAML parser, loaded when a config file is read and dropped after (src/util/heap.ts): the running agent does not
 * hold its 72 modules (about 3 MB of RSS; issue 10).
 */
function parseYaml(text: string): unknown {
  return requireForOnce(import.meta.url, (require) => (require('yaml') as typeof import('yaml')).parse(text));
}

/** The schema's problems with `data` (defaults filled in), by a validator loaded for this call and dropped after. */
function validateConfig(data: Record<string, unknown>): string[] {
  return requireForOnce(import.meta.url, (require) => {
    const validate = configValidator(require);
    return validate(data) ? [] : uniqueProblems(validate.errors ?? []);
  });
}

function readConfigFile(file: string): { data: Record<string, unknown>; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { data: {}, problems: [`${file}: cannot read the file: ${(err as Error).message} (check the path given to --config or HUBNLU_CONFIG)`] };
  }
  try {
    const data = parseYaml(text) ?? {};
    if (typeof data !== 'object' || Array.isArray(data)) {
      return { data: {}, problems: [`${file}: the top level must be a mapping of settings (start with e.g. "mqtt:")`] };
    }
    return { data: data as Record<string, unknown>, problems: [] };
  } catch (err) {
    return { data: {}, problems: [`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]} (fix the syntax at that line)`] };
  }
}

function describeError(err: ErrorObject): string {
  let path = err.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (err.keyword === 'additionalProperties') {
    const key = (err.params as { additionalProperty: string }).additionalProperty;
    const full = path ? `${path}.${key}` : key;
    // A record's key that fits none of its patterns (models.languages.german): the key is the problem, not a name.
    if (schemaAt(path)?.patternProperties !== undefined && path === 'models.languages') {
      return `${full}: not a language tag (a BCP 47 tag such as "de", "fr", "es" or "zh-CN", e.g. models.languages.de.intent: models/de/intent)`;
    }
    const guess = suggestKey(path, key);
    return `${full}: unknown setting (${guess ? `did you mean ${guess}? ` : ''}remove it or fix its name; \`hubnlu config schema\` lists every setting)`;
  }
  if (err.keyword === 'required') {
    const key = (err.params as { missingProperty: string }).missingProperty;
    path = path ? `${path}.${key}` : key;
    const fix = hintAt(path);
    return `${path}: missing (add it${fix ? `: ${fix}` : ''})`;
  }
  // Walk the schema along the path, list items included: input.topics.0.format has its own hint.
  let fix = hintAt(path) ?? (err.parentSchema as { hint?: string } | undefined)?.hint;
  if (fix === undefined && err.keyword === 'type' && (err.params as { type?: string }).type === 'object') {
    // A section given a value (`mqtt: localhost`): show where its settings go, with one of them as the example.
    const depth = path.split('.').length + 1;
    const example = SETTINGS.find((s) => s.path.startsWith(`${path}.`) && s.path.split('.').length === depth && ['string', 'number', 'boolean'].includes(typeof s.default));
    const name = path.split('.').pop() ?? path;
    const sample = example ? `, e.g. "  ${example.path.split('.').pop()}: ${String(example.default)}"` : '';
    fix = `its settings go on the lines below "${name}:", indented${sample}; \`hubnlu config schema\` lists them`;
  }
  let message = err.message ?? 'invalid';
  if (err.keyword === 'anyOf' || err.keyword === 'const') message = 'not an allowed value';
  return `${path || '(root)'}: ${message}${fix ? ` (${fix})` : ''}`;
}

function uniqueProblems(errors: readonly ErrorObject[]): string[] {
  // A bad enum value yields one `const` error per alternative plus an `anyOf`; report it once.
  const seen = new Set<string>();
  const out: string[] = [];
  for (const err of errors) {
    const text = describeError(err);
    const key = text.split(':')[0] + (err.keyword === 'const' || err.keyword === 'anyOf' ? '' : err.keyword);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(text);
  }
  return out;
}

/** Resolves which config file applies, or none. */
export function resolveConfigFile(opts: LoadOptions): string | undefined {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.file) return resolve(cwd, opts.file);
  if (env.HUBNLU_CONFIG) return resolve(cwd, env.HUBNLU_CONFIG);
  const fallback = resolve(cwd, 'config/hubnlu.yaml');
  return existsSync(fallback) ? fallback : undefined;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = resolveConfigFile(opts);
  const problems: string[] = [];
  let data: Record<string, unknown> = {};
  if (file) {
    const read = readConfigFile(file);
    data = read.data;
    problems.push(...read.problems);
  }
  const fromEnv: string[] = [];
  /** Settings whose environment value should have been JSON and was not: reported as such, not as a type error. */
  const notJson = new Map<string, string>();
  for (const setting of SETTINGS) {
    const raw = env[setting.env];
    if (raw === undefined) continue;
    const value = coerce(setting, raw);
    setPath(data, setting.path, value);
    fromEnv.push(setting.env);
    const type = setting.schema.type;
    if ((type === 'array' || type === 'object') && typeof value === 'string') {
      const kind = type === 'array' ? 'list' : 'object';
      const example = setting.default !== undefined ? JSON.stringify(setting.default) : type === 'array' ? '["…"]' : '{"…": …}';
      notJson.set(setting.path, `${setting.path}: ${setting.env} is not JSON (a ${kind} setting takes JSON in the environment, e.g. ${setting.env}='${example}')`);
    }
  }
  problems.push(...unknownEnvSettings(env));
  for (const [path, value] of Object.entries(opts.overrides ?? {})) setPath(data, path, value);

  // A value that is not JSON also fails the schema's type check: one problem, the one that says what to write.
  problems.push(...notJson.values(), ...validateConfig(data).filter((p) => !notJson.has(p.slice(0, p.indexOf(':')))));
  const config = data as Config;
  if (problems.length === 0) problems.push(...checkSemantics(config, opts.cwd ?? process.cwd()));
  const source = [file ?? 'built-in defaults', ...(fromEnv.length ? [`env ${fromEnv.join(', ')}`] : [])].join(' + ');
  if (problems.length > 0) throw new ConfigError(problems, source);
  resolveSecrets(config, opts.cwd ?? process.cwd());
  return { config, source };
}

/** Checks the schema cannot express: file existence, combinations. */
function checkSemantics(config: Config, cwd: string): string[] {
  const problems: string[] = [];
  const { mqtt } = config;
  if (mqtt.password !== undefined && mqtt.passwordFile !== undefined) {
    problems.push('mqtt.password: set together with mqtt.passwordFile (keep only one; passwordFile is safer)');
  }
  for (const key of ['ca', 'cert', 'key'] as const) {
    const file = mqtt.tls[key];
    if (file && !existsSync(resolve(cwd, file))) problems.push(`mqtt.tls.${key}: file not found: ${file} (give the path to a PEM file)`);
  }
  if (mqtt.passwordFile && !existsSync(resolve(cwd, mqtt.passwordFile))) {
    problems.push(`mqtt.passwordFile: file not found: ${mqtt.passwordFile} (create it, or unset mqtt.passwordFile)`);
  }
  if ((mqtt.tls.cert === undefined) !== (mqtt.tls.key === undefined)) {
    problems.push('mqtt.tls.cert: a client certificate needs its key and vice versa (set both mqtt.tls.cert and mqtt.tls.key, or neither)');
  }
  problems.push(...checkBrokerChannel(config));
  if (!isValidCron(config.storage.maintenanceCron)) {
    problems.push(`storage.maintenanceCron: not a valid cron expression, or one that never runs: ${JSON.stringify(config.storage.maintenanceCron)} (e.g. "30 3 * * *" for 03:30 every day)`);
  }
  if (!isValidCron(config.extensions.bridge.healthCron)) {
    problems.push(`extensions.bridge.healthCron: not a valid cron expression, or one that never runs: ${JSON.stringify(config.extensions.bridge.healthCron)} (e.g. "*/10 * * * *" for every 10 minutes)`);
  }
  if (config.learning.retrain.schedule !== undefined && !isValidCron(config.learning.retrain.schedule)) {
    problems.push(`learning.retrain.schedule: not a valid cron expression, or one that never runs: ${JSON.stringify(config.learning.retrain.schedule)} (e.g. "0 3 * * *" for 03:00 every day)`);
  }
  if (!config.extensions.hermes.queryTasks.includes('intent')) {
    problems.push('extensions.hermes.queryTasks: must include intent (a Hermes answer is an intent), e.g. [intent] or [intent, sentiment]');
  }
  // `$` topics are the broker's [MQTT-4.7.2-1]: mosquitto refuses a client's publish there and closes its connection.
  if (config.mqtt.baseTopic.startsWith('$')) problems.push('mqtt.baseTopic: starts with "$", which is reserved for the broker (e.g. "hubnlu")');
  config.input.topics.forEach((t, i) => {
    if (/[+#]/.test(t.resultTopic)) problems.push(`input.topics.${i}.resultTopic: contains a wildcard (publish topics may not contain + or #)`);
    if (t.resultTopic.startsWith('$')) problems.push(`input.topics.${i}.resultTopic: starts with "$", which is reserved for the broker (e.g. "{baseTopic}/{siteId}/result")`);
    // Rendered for every input: an unknown one would fail each of them, unanswered and unacknowledged.
    for (const name of new Set([...t.resultTopic.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))) {
      if (name !== 'baseTopic' && name !== 'siteId') problems.push(`input.topics.${i}.resultTopic: unknown placeholder {${name}} (the placeholders are {baseTopic} and {siteId}, e.g. "{baseTopic}/{siteId}/result")`);
    }
    if (!isValidFilter(t.topic)) problems.push(`input.topics.${i}.topic: not a valid topic filter ("+" and "#" fill a whole level, "#" only the last; e.g. "hubnlu/+/utterance")`);
    if (t.topic.startsWith('$share/') && t.topic.split('/').length < 3) problems.push(`input.topics.${i}.topic: a shared subscription needs $share/<group>/<filter>`);
  });
  problems.push(...checkFeedback(config));
  problems.push(...checkShareGroup(config));
  problems.push(...checkHomeAssistantSettings(config.extensions.homeAssistant));
  return problems;
}

/**
 * An input filter must not take in what hubnlu publishes: each answer would come back as an input, and its answer
 * too, without end (`hubnlu/#` took in `hubnlu/default/error`: each error was rejected, which published the next).
 */
function checkFeedback(config: Config): string[] {
  const base = config.mqtt.baseTopic;
  const published = [
    `${base}/+/result`,
    `${base}/+/error`,
    ...config.input.topics.map((t) => t.resultTopic.replace(/\{baseTopic\}/g, base).replace(/\{siteId\}/g, '+')),
    ...['state', 'info', 'health'].map((name) => `${base}/bridge/${name}`),
    `${base}/bridge/response/+`,
    `${base}/bridge/event/+`,
    ...Object.values(stateTopics(base)),
  ];
  const problems: string[] = [];
  config.input.topics.forEach((t, i) => {
    const own = published.find((p) => filtersOverlap(t.topic, p));
    if (own !== undefined) {
      problems.push(`input.topics.${i}.topic: takes in topics hubnlu publishes itself (${own}): each answer would come back as an input, without end (use a filter of its own, e.g. "${base}/+/utterance")`);
    }
  });
  return problems;
}

/**
 * `input.shareGroup` needs a broker that has shared subscriptions and a connection that can tell: over MQTT 5 a broker
 * without them refuses the SUBSCRIBE (reason 0x9E, or `sharedSubscriptionAvailable: 0` in the CONNACK), over 3.1.1 it
 * would take `$share/<group>/<filter>` for an ordinary topic and deliver nothing, without a word.
 */
function checkShareGroup(config: Config): string[] {
  const group = config.input.shareGroup;
  if (group === undefined) return [];
  const problems: string[] = [];
  if (config.mqtt.url === undefined) {
    problems.push(
      'input.shareGroup: the embedded broker (aedes, MQTT 3.1.1) has no shared subscriptions and would deliver nothing to $share/... (set mqtt.url to a broker that has them, such as mosquitto 2, or remove input.shareGroup)',
    );
  } else if (config.mqtt.protocolVersion !== 5) {
    problems.push(
      'input.shareGroup: shared subscriptions need mqtt.protocolVersion: 5 (over MQTT 3.1.1 a broker without them takes $share/... for an ordinary topic and delivers nothing, with no error hubnlu could see; set mqtt.protocolVersion: 5, or remove input.shareGroup)',
    );
  }
  config.input.topics.forEach((t, i) => {
    if (t.topic.startsWith('$share/')) {
      problems.push(`input.topics.${i}.topic: already a shared subscription while input.shareGroup is set (write the plain filter, e.g. "${t.topic.split('/').slice(2).join('/')}", or remove input.shareGroup)`);
    }
  });
  return problems;
}

function resolveSecrets(config: Config, cwd: string): void {
  if (config.mqtt.passwordFile) {
    config.mqtt.password = readFileSync(resolve(cwd, config.mqtt.passwordFile), 'utf8').replace(/\r?\n$/, '');
  }
}

/** A copy of the config with secrets replaced, for logs and reports. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.mqtt.password !== undefined) copy.mqtt.password = '[redacted]';
  if (copy.mqtt.url) copy.mqtt.url = redactUrl(copy.mqtt.url);
  return copy;
}
