/**
 * The configuration schema: the single source of truth for hubnlu's settings.
 *
 * TypeScript types (`Config`), defaults, environment overrides (`HUBNLU_*`) and
 * the documented settings table (`hubnlu config schema`) are all derived from
 * this one object. Every setting carries a `hint` that says how to fix a bad
 * value; validation errors print it.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { extensionSettingsSchema } from '../extensions/index.js';

const hint = (text: string) => ({ hint: text });

export const TASK_NAMES = ['intent', 'sentiment'] as const;

const InputTopic = Type.Object(
  {
    topic: Type.String({
      minLength: 1,
      description: 'MQTT subscription filter. A `+` segment captures the site id (e.g. `hubnlu/+/utterance`).',
      ...hint('use an MQTT topic filter such as "hubnlu/+/utterance"'),
    }),
    format: Type.Union([Type.Literal('auto'), Type.Literal('text'), Type.Literal('json'), Type.Literal('hermes')], {
      default: 'auto',
      description: '`auto`: JSON object if the payload parses as one, else plain text. `hermes`: Hermes `input`/`text` JSON.',
      ...hint('one of auto, text, json, hermes'),
    }),
    tasks: Type.Array(Type.Union(TASK_NAMES.map((t) => Type.Literal(t))), {
      minItems: 1,
      uniqueItems: true,
      default: ['intent', 'sentiment'],
      description: 'Which models run on inputs from this subscription (voice: both; sensor text: often sentiment only).',
      ...hint('a list drawn from [intent, sentiment]'),
    }),
    lang: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$',
        description: 'Language of every input on this subscription (`de`, `zh-CN`, …): wins over detection; a payload `lang` wins over it.',
        ...hint('a BCP 47 language tag such as "de" or "zh-CN", or remove it to detect the language'),
      }),
    ),
    resultTopic: Type.String({
      default: '{baseTopic}/{siteId}/result',
      description: 'Where results go. Placeholders: `{baseTopic}`, `{siteId}`.',
      ...hint('a topic without + or #, e.g. "{baseTopic}/{siteId}/result"'),
    }),
    payloadSiteId: Type.Boolean({
      default: false,
      description:
        'On a topic with a `+` site segment the topic names the site, and a payload `siteId` that differs is rejected (`site_mismatch`). `true`: the payload may choose the site (its results go to that site\'s topics: only where broker ACLs do not rely on per-site topics). Topics without `+` (Hermes) always use the payload\'s siteId.',
      ...hint('true or false'),
    }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    mqtt: Type.Object(
      {
        url: Type.Optional(
          Type.String({
            pattern: '^(mqtt|mqtts|tcp|tls|ws|wss)://',
            description: 'External broker URL. Absent: hubnlu starts its embedded broker (see mqtt.embedded).',
            ...hint('e.g. "mqtt://192.168.1.10:1883" or "mqtts://broker.local:8883"; remove it to use the embedded broker'),
          }),
        ),
        protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], {
          default: 5,
          description: 'MQTT protocol for an external broker: 5 (session expiry) or 4 (3.1.1). The embedded broker always speaks 3.1.1.',
          ...hint('5 or 4'),
        }),
        clientId: Type.String({
          default: 'hubnlu',
          pattern: '^[A-Za-z0-9_.-]{1,64}$',
          description: 'Fixed client id: the persistent session (and the queued inputs) belong to it.',
          ...hint('1-64 letters, digits, "_", "." or "-"'),
        }),
        separatePublishConnection: Type.Boolean({
          default: true,
          description:
            'Publish results on a second connection (client id `<clientId>-out`) so they keep flowing while the broker delivers a backlog of inputs. Set false where broker ACLs allow one client id only.',
          ...hint('true or false'),
        }),
        username: Type.Optional(Type.String({ description: 'Broker username.', ...hint('a string') })),
        password: Type.Optional(
          Type.String({
            description: 'Broker password. Prefer `passwordFile` or the HUBNLU_MQTT_PASSWORD environment variable.',
            ...hint('a string; better: put it in a file and set mqtt.passwordFile'),
          }),
        ),
        passwordFile: Type.Optional(
          Type.String({ description: 'File holding the broker password (trailing newline ignored).', ...hint('a readable file path') }),
        ),
        baseTopic: Type.String({
          default: 'hubnlu',
          pattern: '^[^+#\\u0000]+[^/+#\\u0000]$',
          description: 'Prefix of every topic hubnlu publishes.',
          ...hint('a topic prefix without + or # and without a trailing "/", e.g. "hubnlu"'),
        }),
        sessionExpirySeconds: Type.Integer({
          default: 7 * 24 * 3600,
          minimum: 1,
          description: 'MQTT 5 session expiry: how long the broker keeps queued QoS 1 inputs while hubnlu is down.',
          ...hint('a whole number of seconds >= 1, e.g. 604800 (a week)'),
        }),
        keepaliveSeconds: Type.Integer({ default: 30, minimum: 5, maximum: 3600, ...hint('seconds between 5 and 3600') }),
        reconnectPeriodMs: Type.Integer({
          default: 1000,
          minimum: 100,
          maximum: 60000,
          description: 'First reconnect delay. Each failed attempt doubles it (with jitter) up to mqtt.reconnectMaxMs; a connection that held for a while starts over.',
          ...hint('milliseconds between 100 and 60000'),
        }),
        reconnectMaxMs: Type.Integer({
          default: 60000,
          minimum: 100,
          maximum: 3600000,
          description: 'Longest delay between reconnect attempts (the backoff cap), at start-up and while running.',
          ...hint('milliseconds between 100 and 3600000, not below mqtt.reconnectPeriodMs'),
        }),
        allowPlaintextPassword: Type.Boolean({
          default: false,
          description:
            'Allow sending the broker password over plain mqtt://, tcp:// or ws:// to a broker that is not on this machine. Off: that is a configuration error (use mqtts://).',
          ...hint('true or false; better: use mqtts:// with mqtt.tls.ca'),
        }),
        tls: Type.Object(
          {
            ca: Type.Optional(Type.String({ description: 'CA certificate file (PEM).', ...hint('a readable PEM file path') })),
            cert: Type.Optional(Type.String({ description: 'Client certificate file (PEM).', ...hint('a readable PEM file path') })),
            key: Type.Optional(Type.String({ description: 'Client private key file (PEM).', ...hint('a readable PEM file path') })),
            rejectUnauthorized: Type.Boolean({ default: true, description: 'Verify the broker certificate.', ...hint('true or false') }),
          },
          { default: {}, additionalProperties: false },
        ),
        embedded: Type.Object(
          {
            host: Type.String({ default: '127.0.0.1', description: 'Address the embedded broker listens on.', ...hint('an IP address, e.g. 127.0.0.1') }),
            port: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'Embedded broker port (0: any free port).', ...hint('a port between 0 and 65535') }),
            persistence: Type.Optional(
              Type.String({
                minLength: 1,
                description:
                  'Directory where the embedded broker keeps sessions, queued QoS 1 messages and retained messages (LevelDB), so they survive a restart. Absent: in memory, lost when hubnlu stops.',
                ...hint('a directory path, e.g. /var/lib/hubnlu/broker (relative paths are resolved from the working directory)'),
              }),
            ),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    input: Type.Object(
      {
        topics: Type.Array(InputTopic, {
          default: [{ topic: 'hubnlu/+/utterance' }],
          description:
            'Subscriptions and, for each, the tasks to run and where results go. The Hermes topics (`hermes/nlu/query`, `hermes/asr/textCaptured`) belong to `extensions.hermes`.',
          ...hint('a list of {topic, format?, tasks?, resultTopic?, payloadSiteId?}'),
        }),
        maxPayloadBytes: Type.Integer({
          default: 16384,
          minimum: 64,
          maximum: 1048576,
          description: 'Larger payloads are rejected (`payload_too_large`).',
          ...hint('bytes between 64 and 1048576'),
        }),
        maxTextChars: Type.Integer({
          default: 1000,
          minimum: 16,
          maximum: 100000,
          description: 'Longer texts are rejected (`text_too_long`): an utterance is a sentence, not a document.',
          ...hint('characters between 16 and 100000'),
        }),
        dedupeWindowSeconds: Type.Integer({
          default: 600,
          minimum: 0,
          maximum: 7 * 24 * 3600,
          description:
            'A payload `id` repeated with the same text on the same topic and site within this many seconds is a duplicate (no second row or result). 0: payload ids never deduplicate. Broker redeliveries (DUP flag) are always recognised.',
          ...hint('seconds between 0 (off) and 604800, e.g. 600'),
        }),
        shareGroup: Type.Optional(
          Type.String({
            maxLength: 64,
            pattern: '^[^/+#\\u0000]+$',
            description:
              'Scale out: subscribe to every input topic (`input.topics` and the Hermes inputs) as the MQTT 5 shared subscription `$share/<group>/<filter>`, so that the agents of one group (each with its own `mqtt.clientId` and database) split the inputs on one broker. Needs an external broker with shared subscriptions and `mqtt.protocolVersion: 5`. Absent: every agent gets every input.',
            ...hint('a group name without "/", "+" or "#" (an MQTT share name may not contain them), e.g. "hubnlu"; or remove it'),
          }),
        ),
        maxInFlight: Type.Integer({
          default: 256,
          minimum: 1,
          maximum: 100000,
          description: 'Inputs accepted but not yet answered. At the limit hubnlu stops acknowledging (back-pressure to the broker).',
          ...hint('a whole number between 1 and 100000'),
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    models: Type.Object(
      {
        intent: Type.String({ default: 'models/intent', description: 'Intent + slot model directory (relative to the package or absolute).', ...hint('a directory holding manifest.json') }),
        sentiment: Type.String({ default: 'models/sentiment', description: 'Sentiment model directory.', ...hint('a directory holding manifest.json') }),
        languages: Type.Optional(
          Type.Record(
            Type.String({ pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$' }),
            Type.Object(
              {
                intent: Type.Optional(Type.String({ minLength: 1, description: 'Intent + slot model directory for this language.', ...hint('a directory holding manifest.json') })),
                sentiment: Type.Optional(Type.String({ minLength: 1, description: 'Sentiment model directory for this language.', ...hint('a directory holding manifest.json') })),
              },
              { additionalProperties: false },
            ),
            {
              additionalProperties: false,
              description:
                'Model directories per language, e.g. `{"de": {"intent": "models/de/intent", "sentiment": "models/de/sentiment"}}`. Absent: English from models.intent / models.sentiment plus every shipped `models/<lang>/{intent,sentiment}` that exists. A language left out (or a task missing for it) answers `unknown` with reason `unsupported_language`.',
              ...hint('an object language → {intent?, sentiment?}, e.g. {"de": {"intent": "models/de/intent"}}'),
            },
          ),
        ),
        defaultLanguage: Type.String({
          default: 'en',
          pattern: '^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$',
          description: 'Language of inputs that name none and that detection is unsure about (or when detection is off). English uses models.intent / models.sentiment.',
          ...hint('a language tag with models, e.g. "en"'),
        }),
        detectLanguage: Type.Boolean({
          default: true,
          description: 'Detect the language of inputs without `lang` (payload or route) with the models.langid model. Off: such inputs are models.defaultLanguage.',
          ...hint('true or false'),
        }),
        langid: Type.String({ default: 'models/langid', description: 'Language identification model directory.', ...hint('a directory holding a langid manifest.json, or set models.detectLanguage to false') }),
        detectThreshold: Type.Optional(
          Type.Number({
            minimum: 0,
            maximum: 1,
            description: 'Calibrated confidence a detected language other than the default needs; below it the input is the default language. Absent: the langid model\'s own.',
            ...hint('a number between 0 and 1, e.g. 0.8; raise it if default-language inputs get routed elsewhere'),
          }),
        ),
        unknownThreshold: Type.Optional(
          Type.Number({
            minimum: 0,
            maximum: 1,
            description:
              'Calibrated intent confidence below which the intent is `unknown`. Absent: the threshold chosen for the intent model (its manifest; 0.4 for the shipped model).',
            ...hint('a number between 0 and 1, e.g. 0.4; raise it where a wrong action is costly'),
          }),
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    storage: Type.Object(
      {
        path: Type.String({ default: 'data/hubnlu.db', minLength: 1, description: 'SQLite database file (created owner-only).', ...hint('a file path, e.g. data/hubnlu.db') }),
        synchronous: Type.Union([Type.Literal('full'), Type.Literal('normal')], {
          default: 'full',
          description: '`full`: an acknowledged input survives power loss (one fsync per input). `normal`: survives crashes, not power loss; faster on SD cards.',
          ...hint('full or normal'),
        }),
        retentionDays: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: 'Delete answered inputs older than this many days at each maintenance run. Absent: keep everything.',
            ...hint('a whole number of days >= 1, or remove it to keep everything'),
          }),
        ),
        maintenanceCron: Type.String({
          default: '30 3 * * *',
          description: 'When maintenance runs (cron syntax, local time): retention, `PRAGMA optimize`, WAL checkpoint.',
          ...hint('a cron expression such as "30 3 * * *" (03:30 every day)'),
        }),
        busyTimeoutMs: Type.Integer({ default: 5000, minimum: 0, maximum: 600000, description: 'How long a write waits for a lock held by another process before retrying.', ...hint('milliseconds, e.g. 5000') }),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info', description: 'Log level (JSON lines on stdout).', ...hint('one of fatal, error, warn, info, debug, trace, silent') },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    extensions: extensionSettingsSchema(),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type InputTopicConfig = Static<typeof InputTopic>;

/** Setting paths whose values are secrets: redacted from logs and reports. */
export const SECRET_PATHS = ['mqtt.password'] as const;

export interface SettingDoc {
  readonly path: string;
  readonly env: string;
  readonly type: string;
  readonly default: unknown;
  readonly description: string;
  readonly schema: TSchema;
}

/** `mqtt.clientId` → `HUBNLU_MQTT_CLIENT_ID`. */
export function envNameFor(path: string): string {
  return 'HUBNLU_' + path.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
}

function typeName(schema: TSchema): string {
  if (schema.anyOf) return (schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(' | ');
  return String(schema.type ?? 'any');
}

/** Every leaf setting (objects are walked; arrays are leaves), in schema order. */
export function listSettings(schema: TSchema = ConfigSchema, prefix = ''): SettingDoc[] {
  const out: SettingDoc[] = [];
  for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.type === 'object' && child.properties) {
      out.push(...listSettings(child, path));
    } else {
      out.push({ path, env: envNameFor(path), type: typeName(child), default: child.default, description: child.description ?? '', schema: child });
    }
  }
  return out;
}
