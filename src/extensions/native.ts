/**
 * The native protocol: the result JSON on the route's result topic
 * (`<base>/<siteId>/result` by default) and errors on `<base>/<siteId>/error`.
 * An MQTT 5 caller that set a Response Topic gets a copy there, with its
 * Correlation Data [MQTT-4.10].
 */
import { Type } from '../config/type.js';
import { buildError, buildResult } from '../agent/messages.js';
import { escapeSegment } from '../transport/topics.js';
import type { AnalysedInput, Extension, ExtensionContext, ExtensionDefinition, FailedInput, OutboundMessage } from './extension.js';

const settings = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Publish the native result and error JSON.', hint: 'true or false' }),
    responseTopic: Type.Boolean({
      default: true,
      description: 'MQTT 5: also send each result to the Response Topic an utterance named, with its Correlation Data.',
      hint: 'true or false',
    }),
  },
  { default: {}, additionalProperties: false },
);

type Settings = { enabled: boolean; responseTopic: boolean };

export class NativeExtension implements Extension {
  readonly name = 'native';

  constructor(private readonly ctx: ExtensionContext, private readonly settings: Settings) {}

  topics(): readonly string[] {
    return []; // utterances arrive through input.topics (the intake), not through an extension
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  outputs(r: AnalysedInput): readonly OutboundMessage[] {
    const topic = r.input.resultTopic ?? `${this.ctx.baseTopic}/${escapeSegment(r.input.siteId)}/result`;
    const payload = JSON.stringify(buildResult(r.input, r.analysis, r.latencyMs));
    return this.withResponse({ topic, payload }, r.input.response);
  }

  failures(f: FailedInput): readonly OutboundMessage[] {
    const i = f.input;
    const payload = JSON.stringify(
      buildError({ id: i.id, siteId: i.siteId, sessionId: i.sessionId, code: f.code, message: f.message, topic: i.topic, receivedAt: i.receivedAt, excerpt: i.excerpt }),
    );
    return this.withResponse({ topic: `${this.ctx.baseTopic}/${escapeSegment(i.siteId)}/error`, payload }, i.response);
  }

  private withResponse(message: OutboundMessage, response: FailedInput['input']['response']): OutboundMessage[] {
    if (!response || !this.settings.responseTopic) return [message];
    return [message, { topic: response.topic, payload: message.payload, properties: response.correlationData ? { correlationData: response.correlationData } : undefined }];
  }
}

export const nativeExtension: ExtensionDefinition<typeof settings> = {
  name: 'native',
  settings,
  create: (ctx, s) => new NativeExtension(ctx, s),
};
