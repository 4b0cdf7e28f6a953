/**
 * The JSON hubnlu publishes: results on `<base>/<siteId>/result`, errors on
 * `<base>/<siteId>/error`. This is the native contract; Hermes and Home
 * Assistant adapters translate from the same `Analysis`.
 */
import type { Analysis, ModelRef } from '../model/types.js';

export interface ResultInput {
  readonly id: string;
  readonly siteId: string;
  readonly sessionId: string | null;
  readonly lang: string | null;
  readonly text: string;
  readonly topic: string;
  readonly receivedAt: number;
  readonly request: Readonly<Record<string, unknown>>;
}

export interface ResultMessage {
  id: string;
  siteId: string;
  sessionId: string | null;
  text: string;
  /** The language the input was analysed as (else the payload's `lang`, when the analyzer names none). */
  lang?: string;
  /** Where `lang` came from: payload, route, detected or default. */
  langSource?: string;
  /** Why the intent is `unknown` when not for low confidence, e.g. `unsupported_language`. */
  reason?: string;
  intent?: { name: string; confidence: number };
  alternatives?: Array<{ name: string; confidence: number }>;
  slots?: unknown[];
  sentiment?: { label: string; score: number; scores: Record<string, number> };
  models: ModelRef[];
  latencyMs: number;
  receivedAt: string;
  meta?: unknown;
  customData?: unknown;
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

export function buildResult(input: ResultInput, analysis: Analysis, latencyMs: number): ResultMessage {
  const out: ResultMessage = {
    id: input.id,
    siteId: input.siteId,
    sessionId: input.sessionId,
    text: input.text,
    models: [...analysis.models],
    latencyMs: round(latencyMs, 3),
    receivedAt: new Date(input.receivedAt).toISOString(),
  };
  const lang = analysis.lang ?? input.lang;
  if (lang) out.lang = lang;
  if (analysis.langSource) out.langSource = analysis.langSource;
  if (analysis.reason) out.reason = analysis.reason;
  if (analysis.intent) {
    out.intent = { name: analysis.intent.name, confidence: round(analysis.intent.confidence) };
    out.alternatives = analysis.intent.alternatives.map((a) => ({ name: a.name, confidence: round(a.confidence) }));
    out.slots = analysis.intent.slots.map((slot) => ({ ...slot, confidence: round(slot.confidence) }));
  }
  if (analysis.sentiment) {
    const s = analysis.sentiment;
    out.sentiment = {
      label: s.label,
      score: round(s.score),
      scores: { negative: round(s.scores.negative), neutral: round(s.scores.neutral), positive: round(s.scores.positive) },
    };
  }
  if (input.request.meta !== undefined) out.meta = input.request.meta;
  if (input.request.customData !== undefined) out.customData = input.request.customData;
  return out;
}

export interface ErrorMessage {
  id: string | null;
  siteId: string;
  sessionId: string | null;
  code: string;
  message: string;
  topic: string;
  receivedAt: string;
  excerpt: string;
}

export function buildError(fields: {
  id?: string | null;
  siteId: string;
  sessionId?: string | null;
  code: string;
  message: string;
  topic: string;
  receivedAt: number;
  excerpt: string;
}): ErrorMessage {
  return {
    id: fields.id ?? null,
    siteId: fields.siteId,
    sessionId: fields.sessionId ?? null,
    code: fields.code,
    message: fields.message,
    topic: fields.topic,
    receivedAt: new Date(fields.receivedAt).toISOString(),
    excerpt: fields.excerpt,
  };
}
