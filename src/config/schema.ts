/**
 * The configuration schema: the single source of truth for hubnlu's settings.
 *
 * TypeScript types (`Config`), defaults, environment overrides (`HUBNLU_*`) and
 * the documented settings table (`hubnlu config schema`) are all derived from
 * this one object. Every setting carries a `hint` that says how to fix a bad
 * value; validation errors print it.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Type } from './type.js';
import { extensionSettingsSchema } from '../extensions/index.js';
import { TASKS } from '../model/tasks.js';

const hint = (text: string) => ({ hint: text });

export const TASK_NAMES = TASKS;

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

/** `models.transformers.<task>`: how a Hugging Face model directory serves the task (src/model/transformers-settings.ts). */
const TransformerTask = Type.Object(
  {
    task: Type.Optional(
      Type.Union([Type.Literal('text-classification'), Type.Literal('zero-shot-classification')], {
        description:
          '`text-classification`: the model\'s own labels (id2label), mapped by labelMap. `zero-shot-classification` (intent only): an NLI model scores one hypothesis per entry of candidateLabels. Default text-classification.',
        ...hint('text-classification or zero-shot-classification'),
      }),
    ),
    labelMap: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description:
          'Model label (config.json id2label) → hubnlu label; several may map to one (their probabilities add). Sentiment: each must map to negative, neutral or positive (labels already named so need no entry).',
        ...hint('an object such as {"LABEL_0": "negative", "LABEL_1": "positive"}'),
      }),
    ),
    candidateLabels: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String(), {
        description: 'Zero-shot: intent → description put into the hypothesis ("": the intent name itself).',
        ...hint('an object such as {"lights_on": "turning the lights on", "weather_query": "the weather"}'),
      }),
    ),
    hypothesisTemplate: Type.Optional(
      Type.String({ pattern: '\\{\\}', description: 'Zero-shot hypothesis; `{}` becomes the description. Default "This example is {}."', ...hint('a sentence containing {}, e.g. "This request is about {}."') }),
    ),
    slotsFrom: Type.Optional(
      Type.String({ minLength: 1, description: 'Intent: a token-classification model directory (Hugging Face layout, BIO labels such as B-room) whose entities become the slots.', ...hint('a directory holding config.json, tokenizer.json and onnx/model.onnx') }),
    ),
    slotMap: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), { description: 'Entity type of the slot model → hubnlu slot type.', ...hint('an object such as {"LOC": "house_place"}') }),
    ),
    quantized: Type.Optional(
      Type.Boolean({ description: 'true: load onnx/model_quantized.onnx; false: onnx/model.onnx. Absent: model.onnx where it exists, else the quantized one.', ...hint('true or false') }),
    ),
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
        keepaliveSeconds: Type.Integer({
          default: 30,
          minimum: 5,
          maximum: 3600,
          description: 'MQTT keep-alive: the longest silence before the client pings the broker; the broker drops a client silent for 1.5 × this (and then publishes its Last Will).',
          ...hint('seconds between 5 and 3600'),
        }),
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
        commitBatch: Type.Integer({
          default: 256,
          minimum: 1,
          maximum: 10000,
          description:
            'Group commit: at most this many inputs are stored in one transaction (an accepted input in the same row as its result; at most 32 analysed together) and acknowledged (PUBACK) together after it commits; with storage.synchronous full, one fsync per batch. Also how many inputs may wait for their commit past the MQTT packet loop. 1: one transaction per input, handled one at a time.',
          ...hint('a whole number between 1 and 10000, e.g. 256'),
        }),
        commitWaitMs: Type.Integer({
          default: 0,
          minimum: 0,
          maximum: 100,
          description:
            'How long the first input of a batch waits for more before the batch is analysed and committed. 0: at the end of the event-loop turn that received it (everything that arrived in the same read from the socket), so a lone input waits for nothing.',
          ...hint('milliseconds between 0 and 100, e.g. 2'),
        }),
        ackHoldMs: Type.Integer({
          default: 0,
          minimum: 0,
          maximum: 100,
          description:
            'How long a stored input\'s PUBACK may wait so that the PUBACKs of several inputs share one socket write (at most 8 are held; a held PUBACK is still sent only after its input is committed). 0: sent at the end of the task that stored the input. Fewer writes wake the broker less often; a broker that allows hubnlu fewer than 8 messages in flight waits up to this long for each.',
          ...hint('milliseconds between 0 (off) and 100, e.g. 2'),
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
        intent: Type.String({ default: 'models/intent', description: 'Intent + slot model directory (relative to the package or absolute): a hubnlu model, or a Hugging Face model directory (see models.transformers).', ...hint('a directory holding manifest.json, or config.json + tokenizer.json + onnx/model.onnx') }),
        sentiment: Type.String({ default: 'models/sentiment', description: 'Sentiment model directory (a hubnlu model or a Hugging Face model directory).', ...hint('a directory holding manifest.json, or config.json + tokenizer.json + onnx/model.onnx') }),
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
        lazyLanguages: Type.Boolean({
          default: true,
          description:
            'Load the models of a language other than models.defaultLanguage at its first input instead of at start (their manifests are still checked at start). Saves about 10 MB of memory and 60 ms of start per language never spoken; the first input in such a language waits for the load (~50 ms).',
          ...hint('true or false'),
        }),
        thread: Type.Union([Type.Literal('auto'), Type.Literal('main'), Type.Literal('worker')], {
          default: 'auto',
          description:
            "Where the live models run. `worker`: in a worker thread of their own (the agent's main thread posts each micro-batch there and gets the analyses back), so model work runs beside SQLite and MQTT on a second core; 15-20 MB more RSS (measured with the shipped models: idle +14-19 MB). `main`: on the agent's main thread, nothing more in memory, for a one-core board. `auto`: `worker` when a live model is a transformer (models.transformers, an `hf:` reference or a Hugging Face directory) and the machine has at least 2 cores, else `main` (the shipped models cost about 0.1 ms a message, and a thread would add 15-20 MB for about the same whole-agent CPU).",
          ...hint('auto, main or worker'),
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
        transformers: Type.Object(
          {
            allowDownload: Type.Boolean({
              default: false,
              description:
                'Let a model setting name a Hugging Face hub model (`hf:owner/name`) and fetch it into models.transformers.cacheDir. Off: nothing is ever downloaded; transformer models are local directories.',
              ...hint('true or false'),
            }),
            cacheDir: Type.Optional(
              Type.String({ minLength: 1, description: 'Where downloaded models are kept. Absent: `transformers/` beside storage.path.', ...hint('a directory path, e.g. /var/lib/hubnlu/transformers') }),
            ),
            intent: Type.Optional(TransformerTask),
            sentiment: Type.Optional(TransformerTask),
          },
          {
            default: {},
            additionalProperties: false,
            description: 'Settings for Hugging Face model directories (config.json, tokenizer.json, onnx/model.onnx) given as models.intent / models.sentiment.',
          },
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
        shadow: Type.Optional(
          Type.Object(
            {
              intent: Type.Optional(Type.String({ minLength: 1, description: 'Candidate intent model directory run in shadow.', ...hint('a directory holding manifest.json') })),
              sentiment: Type.Optional(Type.String({ minLength: 1, description: 'Candidate sentiment model directory run in shadow.', ...hint('a directory holding manifest.json') })),
              maxQueued: Type.Integer({
                default: 1000,
                minimum: 1,
                maximum: 100000,
                description: 'Answered inputs waiting for the shadow model (its bounded backlog). Past it, inputs are skipped (counted as dropped), never queued without limit.',
                ...hint('a whole number between 1 and 100000'),
              }),
              nice: Type.Integer({
                default: 19,
                minimum: 0,
                maximum: 19,
                description:
                  "CPU priority (Linux nice value) of the shadow model's worker thread: 19 runs it only on CPU time the live path and everything else leave idle; 0 runs it at the agent's own priority.",
                ...hint('a whole number between 0 and 19'),
              }),
            },
            {
              additionalProperties: false,
              description:
                'A candidate model run in its own worker thread beside the live one, on inputs analysed in the language of models.intent / models.sentiment, after the live result is stored and queued for publishing. Its prediction goes to the log (inputs.shadow_*), never to MQTT. Absent: no shadow model.',
              ...hint('an object {intent?: DIR, sentiment?: DIR, maxQueued?: N, nice?: N}'),
            },
          ),
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
            description: 'Delete answered inputs older than this many days at each maintenance run; inputs with a label, or with a result not yet published, are kept. Absent: keep everything.',
            ...hint('a whole number of days >= 1, or remove it to keep everything'),
          }),
        ),
        maintenanceCron: Type.String({
          default: '30 3 * * *',
          description: 'When maintenance runs (cron syntax, local time): retention, `PRAGMA optimize`, WAL checkpoint.',
          ...hint('a cron expression such as "30 3 * * *" (03:30 every day)'),
        }),
        busyTimeoutMs: Type.Integer({ default: 5000, minimum: 0, maximum: 600000, description: 'How long a write waits for a lock held by another process before retrying.', ...hint('milliseconds, e.g. 5000') }),
        checkpointThread: Type.Boolean({
          default: true,
          description:
            "Copy the WAL back into the database file from a worker thread (PASSIVE checkpoints after commits), so the agent's own commits never run a checkpoint and its fsyncs. false: SQLite's automatic checkpoint every 1,000 pages, inside a commit; saves the thread's ~8 MB of memory.",
          ...hint('true or false'),
        }),
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
    learning: Type.Object(
      {
        modelsDir: Type.String({
          default: 'data/models',
          minLength: 1,
          description:
            'Where retrained household models are kept, one version per directory (`<dir>/intent/v0001`, …) and a `current.json` pointer saying which is live. The package\'s `models/` stays the read-only shipped models; with no promoted version the shipped intent model is live.',
          ...hint('a directory path, e.g. data/models'),
        }),
        watchModels: Type.Boolean({
          default: true,
          description: 'The running agent watches `<modelsDir>/intent/current.json` and hot-swaps the intent model when `hubnlu models promote|rollback` changes it (in-flight inputs finish on the old model).',
          ...hint('true or false'),
        }),
        datasets: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'The public training data the shipped intent model was trained on (a directory holding intent/hwu64.train.jsonl, …); retraining extends it with the household\'s rows. Absent: $HUBNLU_DATASETS; with neither, a retrain fails naming both (the datasets are not part of the repository).',
            ...hint('a dataset directory holding intent/ and sentiment/'),
          }),
        ),
        templates: Type.Optional(Type.String({ minLength: 1, description: 'Household sentence templates (Home Assistant `custom_sentences` YAML) used by every retrain.', ...hint('a directory holding *.yaml sentence files') })),
        data: Type.Optional(Type.String({ minLength: 1, description: 'A JSONL file of household examples (`{"text", "intent", "slots"?}`) used by every retrain.', ...hint('a JSONL file path') })),
        areas: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'The household\'s rooms: they fill `{area}` in the templates and come back as `house_place` slots.',
          ...hint('a list of room names, e.g. ["kitchen", "den", "boot room"]'),
        }),
        holdout: Type.Number({
          default: 0.5,
          minimum: 0.1,
          maximum: 0.9,
          description: 'Share of the household\'s log labels held out (stratified, seeded) to compare the base and candidate models on; the rest train the candidate.',
          ...hint('a share between 0.1 and 0.9, e.g. 0.5'),
        }),
        householdRepeat: Type.Integer({
          default: 20,
          minimum: 1,
          maximum: 1000,
          description: 'Each household training row is repeated this many times beside the public rows (15,371 in the shipped datasets: upsampling), so a few dozen labels can move the model.',
          ...hint('a whole number between 1 and 1000, e.g. 20'),
        }),
        minExamples: Type.Integer({
          default: 10,
          minimum: 1,
          description: 'A household intent with fewer training examples than this gets a warning naming the count (it will likely be missed).',
          ...hint('a whole number, e.g. 10'),
        }),
        maxDevDrop: Type.Number({
          default: 0.5,
          minimum: 0,
          maximum: 100,
          description: 'Promotion refuses a candidate whose public dev-set accuracy is more than this many points below the base model\'s.',
          ...hint('percentage points, e.g. 0.5'),
        }),
        retrain: Type.Object(
          {
            schedule: Type.Optional(
              Type.String({
                description: 'Retrain on a schedule inside the agent (cron syntax, local time), e.g. "0 3 * * *". Absent: only `hubnlu train --with-log-labels` retrains.',
                ...hint('a cron expression such as "0 3 * * *" (03:00 every day), or remove it'),
              }),
            ),
            promote: Type.Union([Type.Literal('if-better'), Type.Literal('never')], {
              default: 'if-better',
              description: '`if-better`: a scheduled retrain promotes (and hot-swaps) the candidate only when it is significantly better on the held-out household labels (McNemar, p < 0.05) and the public dev set did not drop more than learning.maxDevDrop. `never`: store it for `hubnlu models promote`.',
              ...hint('if-better or never'),
            }),
          },
          { default: {}, additionalProperties: false },
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
