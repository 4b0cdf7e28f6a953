/**
 * Hermes NLU service: a drop-in for Rhasspy's NLU (rhasspy-hermes field names,
 * REFERENCE.md). hubnlu owns the Hermes topics through this extension:
 *
 * - `hermes/nlu/query` → `hermes/nlu/intentParsed` and `hermes/intent/<intentName>`,
 *   or `hermes/nlu/intentNotRecognized` when the intent is `unknown` (below the
 *   model's threshold, or outside the query's `intentFilter`) or the input is
 *   empty (speech-to-text heard nothing); a query that is rejected (no `input`, a refused siteId, …) →
 *   `hermes/nlu/intentNotRecognized` (its dialogue manager waits for nothing else) and `hermes/error/nlu` saying
 *   why; one with no sessionId to answer (not JSON, not an object) or that the model fails on → `hermes/error/nlu`.
 * - `hermes/asr/textCaptured`: Rhasspy's NLU service does not answer it (its
 *   dialogue manager turns the transcription into an `nlu/query`), so by default
 *   hubnlu analyses it (intent and sentiment) for its own result and log only,
 *   and sends no Hermes intent: a dialogue manager's query is answered once.
 *   `textCaptured: intent` also answers it the Hermes way (no dialogue manager);
 *   `ignore` does not subscribe.
 *
 * Queries go through the utterance pipeline (`ctx.submit`): stored before they
 * are acknowledged, answered from the outbox, so a Hermes answer is as durable
 * as a native result (which is published too, on `<base>/<siteId>/result`).
 */
import type { Static } from '@sinclair/typebox';
import { Type } from '../config/type.js';
import { UNKNOWN_INTENT, type SlotResult } from '../model/types.js';
import type { InboundMessage } from '../transport/mqtt-connection.js';
import type { AnalysedInput, Extension, ExtensionContext, ExtensionDefinition, FailedInput, OutboundMessage, SubmitOutcome } from './extension.js';

export const HERMES_QUERY = 'hermes/nlu/query';
export const HERMES_TEXT_CAPTURED = 'hermes/asr/textCaptured';

const onOff = (description: string) => Type.Boolean({ default: true, description, hint: 'true or false' });

const settings = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Answer Rhasspy/Hermes NLU queries (`hermes/nlu/query`).', hint: 'true or false' }),
    textCaptured: Type.Union([Type.Literal('native'), Type.Literal('intent'), Type.Literal('ignore')], {
      default: 'native',
      description:
        '`hermes/asr/textCaptured`: `native` analyses it (intent + sentiment) for the native result only, as Rhasspy\'s NLU leaves it to the dialogue manager; `intent` also publishes the Hermes intent messages (setups without a dialogue manager); `ignore` does not subscribe.',
      hint: 'one of native, intent, ignore',
    }),
    queryTasks: Type.Array(Type.Union([Type.Literal('intent'), Type.Literal('sentiment')]), {
      default: ['intent'],
      minItems: 1,
      uniqueItems: true,
      description: 'Models run on an `nlu/query` (the Hermes answer needs only `intent`; add `sentiment` for the native result and log).',
      hint: 'a list drawn from [intent, sentiment] containing intent',
    }),
    intentParsed: onOff('Publish `hermes/nlu/intentParsed`.'),
    intent: onOff('Publish `hermes/intent/<intentName>`.'),
    intentNotRecognized: onOff('Publish `hermes/nlu/intentNotRecognized` for an `unknown` intent.'),
    error: onOff('Publish `hermes/error/nlu` for rejected queries and model failures.'),
  },
  { default: {}, additionalProperties: false },
);

type Settings = Static<typeof settings>;

/** A Hermes slot (Rhasspy `rhasspyhermes/intent.py` Slot). */
export interface HermesSlot {
  entity: string;
  slotName: string;
  rawValue: string;
  value: { kind: 'Number' | 'Unknown'; value: number | string };
  range: { start: number; end: number };
  confidence: number;
}

const round = (x: number): number => Number(x.toFixed(4));

export function toHermesSlot(slot: SlotResult): HermesSlot {
  return {
    entity: slot.type,
    slotName: slot.type,
    rawValue: slot.raw,
    value: typeof slot.value === 'number' ? { kind: 'Number', value: slot.value } : { kind: 'Unknown', value: slot.value },
    range: { start: slot.start, end: slot.end },
    confidence: round(slot.confidence),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The `id` and `siteId` a Hermes answer echoes: as the query sent them (intake keeps them in `request.hermes`; `id`
 * null when none was sent, as Rhasspy's NLU answers), not hubnlu's assigned id or the siteId's topic segment. Inputs
 * stored before intake kept them fall back to the stored values.
 */
function echoOf(input: { readonly id: string | null; readonly siteId: string; readonly request: Readonly<Record<string, unknown>> }): { id: string | null; siteId: string } {
  const h = input.request.hermes as { id?: unknown; siteId?: unknown } | undefined;
  if (h === null || typeof h !== 'object' || typeof h.siteId !== 'string') return { id: input.id, siteId: input.siteId };
  return { id: typeof h.id === 'string' ? h.id : null, siteId: h.siteId };
}

/**
 * Rejections no intentNotRecognized answers: a payload that is not a JSON object (too large to read, not UTF-8, not
 * JSON, an array) has no sessionId, id or siteId to answer to, and a retained query is an old one replayed on
 * subscribing (a new session), with nobody waiting for it. Every other refused query was a JSON object whose
 * correlation fields were read (too_deeply_nested: its top-level strings), so its dialogue manager is answered.
 */
const UNANSWERABLE: ReadonlySet<string> = new Set(['payload_too_large', 'invalid_utf8', 'invalid_json', 'json_not_object', 'retained']);

/**
 * A refused query's intentNotRecognized: id, siteId and sessionId as sent, even one the parser refused (a siteId with a
 * control or format character, or over 128 characters: JSON-escaped here, never a topic level), else as stored
 * (`default` for a siteId that was not a string); customData as sent. `input` is "": no text was analysed (a refused
 * text may be long or hold control characters; hermes/error/nlu's `context` shows the payload).
 */
function notRecognizedFor(i: FailedInput['input']): Record<string, unknown> {
  const echo = echoOf(i);
  const h = i.request.hermes as { refused?: { id?: unknown; siteId?: unknown; sessionId?: unknown } } | undefined;
  const refused = h?.refused ?? {};
  return {
    input: '',
    id: echo.id ?? str(refused.id),
    siteId: str(refused.siteId) ?? echo.siteId,
    sessionId: i.sessionId ?? str(refused.sessionId),
    customData: str(i.request.customData),
    wakewordId: null,
    lang: null,
  };
}

/**
 * JSON text with every format character (Unicode Cf: U+202E, U+200B, …) written as a `\\u` escape: the same value
 * once parsed, but a refused siteId's U+202E cannot reorder a terminal line that shows the payload (`mosquitto_sub`,
 * a log). JSON.stringify already escapes control characters and unpaired surrogates; Cf only occurs inside strings.
 */
function escapeFormatCharacters(json: string): string {
  return json.replace(/\p{Cf}/gu, (ch) => Array.from({ length: ch.length }, (_, k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join(''));
}

/**
 * The intent name as the last level of `hermes/intent/<intentName>`. Rhasspy and Snips apps subscribe to the exact
 * name (rhasspyhermes `NluIntent.topic`: no escaping; Snips names are `user:Intent`), so only what would change the
 * topic's meaning is replaced: `/` (a new level), the wildcards `+` and `#` [MQTT-3.3.2-2], and NUL [MQTT-1.5.4-2].
 */
export function intentSegment(name: string): string {
  return name.replace(/[/+#\u0000]/g, '_') || '_';
}

export class HermesExtension implements Extension {
  readonly name = 'hermes';
  /** Queries are utterances: with input.shareGroup one agent of the group answers each. */
  readonly takesInputs = true;

  constructor(private readonly ctx: ExtensionContext, private readonly settings: Settings) {}

  topics(): readonly string[] {
    return this.settings.textCaptured === 'ignore' ? [HERMES_QUERY] : [HERMES_QUERY, HERMES_TEXT_CAPTURED];
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  handle(message: InboundMessage): Promise<SubmitOutcome> {
    if (message.topic === HERMES_TEXT_CAPTURED) return this.ctx.submit(message, { format: 'hermes', tasks: ['intent', 'sentiment'] });
    return this.ctx.submit(message, { format: 'hermes', tasks: this.settings.queryTasks });
  }

  /** Inputs this protocol answers: queries, and textCaptured when asked to. */
  private answers(topic: string): boolean {
    return topic === HERMES_QUERY || (topic === HERMES_TEXT_CAPTURED && this.settings.textCaptured === 'intent');
  }

  outputs(r: AnalysedInput): readonly OutboundMessage[] {
    const { input, analysis } = r;
    if (!this.answers(input.topic) || !analysis.intent) return [];
    const req = input.request;
    const common = { input: input.text, ...echoOf(input), sessionId: input.sessionId };
    const intent = analysis.intent;
    const out: OutboundMessage[] = [];
    if (intent.name === UNKNOWN_INTENT) {
      if (this.settings.intentNotRecognized) {
        out.push({
          topic: 'hermes/nlu/intentNotRecognized',
          payload: JSON.stringify({ ...common, customData: str(req.customData), wakewordId: str(req.wakewordId), lang: input.lang }),
        });
      }
      return out;
    }
    const hermesIntent = { intentName: intent.name, confidenceScore: round(intent.confidence) };
    const slots = intent.slots.map(toHermesSlot);
    if (this.settings.intentParsed) {
      out.push({ topic: 'hermes/nlu/intentParsed', payload: JSON.stringify({ ...common, intent: hermesIntent, slots }) });
    }
    if (this.settings.intent) {
      out.push({
        topic: `hermes/intent/${intentSegment(intent.name)}`,
        payload: JSON.stringify({
          ...common,
          intent: hermesIntent,
          slots,
          customData: str(req.customData),
          asrTokens: Array.isArray(req.asrTokens) ? req.asrTokens : [],
          asrConfidence: typeof req.asrConfidence === 'number' ? req.asrConfidence : null,
          rawInput: input.text,
          wakewordId: str(req.wakewordId),
          lang: input.lang,
        }),
      });
    }
    return out;
  }

  failures(f: FailedInput): readonly OutboundMessage[] {
    if (!this.answers(f.input.topic)) return [];
    const out: OutboundMessage[] = [];
    // Rhasspy's dialogue manager waits for NluIntent or NluIntentNotRecognized only (rhasspy-dialogue-hermes), with
    // the query's sessionId: an error alone keeps the satellite's session open until its timeout. So a refused query
    // is not recognised, as Rhasspy's own NLU answers a text it cannot parse (speech-to-text sends "" for silence:
    // empty_text), and, unless it was only empty, the error says why. A query the models failed on (stage
    // `inference`: a valid query) is answered the same way: its session waits as much as a refused one's.
    if (!UNANSWERABLE.has(f.code) && this.settings.intentNotRecognized) {
      out.push({ topic: 'hermes/nlu/intentNotRecognized', payload: escapeFormatCharacters(JSON.stringify(notRecognizedFor(f.input))) });
    }
    if (f.code === 'empty_text' || !this.settings.error) return out;
    // Rhasspy's NluError: {error, context, siteId, sessionId}; context carries what was asked.
    out.push({
      topic: 'hermes/error/nlu',
      payload: JSON.stringify({ error: `${f.code}: ${f.message}`, context: f.input.excerpt, siteId: echoOf(f.input).siteId, sessionId: f.input.sessionId }),
    });
    return out;
  }
}

export const hermesExtension: ExtensionDefinition<typeof settings> = {
  name: 'hermes',
  settings,
  create: (ctx, s) => new HermesExtension(ctx, s),
};
