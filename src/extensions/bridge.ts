/**
 * The bridge, in the Zigbee2MQTT manner (REFERENCE.md): `<base>/bridge/info`
 * (retained), `<base>/bridge/health` on a cron schedule (retained), and requests
 * on `<base>/bridge/request/<command>` answered on `<base>/bridge/response/<command>`
 * as `{status, data, error?, transaction?}`.
 *
 * Requests are acknowledged at once and worked off a queue (work-queue.ts): MQTT.js
 * handles inbound packets one at a time, so a model reload awaited in `handle()`
 * would hold up every utterance behind it. The price: a request that arrives just
 * before a crash is lost (the caller sees no response and may ask again), which
 * is fine for commands and not acceptable for utterances, which keep the
 * store-then-acknowledge path.
 *
 * MQTT 5 callers that set a Response Topic get the response there instead, with
 * their Correlation Data [MQTT-4.10].
 */
import type { Static } from '@sinclair/typebox';
import { Type } from '../config/type.js';
import { scheduleCron, type CronTask } from '../util/cron.js';
import { TASKS, type TaskName } from '../model/types.js';
import { LabelError, labelInputFromJson, type LabelInput } from '../data/label-check.js';
import type { InboundMessage } from '../transport/mqtt-connection.js';
import { escapeSegment, isSafeSegment } from '../transport/topics.js';
import { ALL_TIME, parseSinceOrAll, type Since } from '../store/queries.js';
import { wellFormedDeep } from '../util/text-safety.js';
import { WorkQueue } from './work-queue.js';
import type { Extension, ExtensionContext, ExtensionDefinition, OutboundMessage } from './extension.js';

export const BRIDGE_COMMANDS = ['health_check', 'info', 'stats', 'classify', 'reload_models', 'set_log_level', 'label'] as const;
export type BridgeCommand = (typeof BRIDGE_COMMANDS)[number];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** Requests are commands, not documents. */
const MAX_REQUEST_BYTES = 65536;

const settings = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Publish `bridge/info` and `bridge/health`; answer `bridge/request/<command>`.', hint: 'true or false' }),
    allow: Type.Array(Type.Union(BRIDGE_COMMANDS.map((c) => Type.Literal(c))), {
      default: ['health_check', 'info', 'stats', 'classify', 'set_log_level'],
      uniqueItems: true,
      description:
        'Commands the bridge answers; others get an error response. `reload_models` and `label` change state and are off by default: anyone who may publish to the request topics could use them (restrict the topics with broker ACLs before allowing them).',
      hint: `a list drawn from [${BRIDGE_COMMANDS.join(', ')}]`,
    }),
    healthCron: Type.String({
      default: '*/10 * * * *',
      description: 'When `bridge/health` is published (cron syntax, local time; a sixth leading field counts seconds).',
      hint: 'a cron expression such as "*/10 * * * *" (every 10 minutes)',
    }),
  },
  { default: {}, additionalProperties: false },
);

type Settings = Static<typeof settings>;

export interface BridgeResponse {
  status: 'ok' | 'error';
  data: unknown;
  error?: string;
  transaction?: unknown;
}

class RequestError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const has = (o: Record<string, unknown>, k: string): boolean => o[k] !== undefined;

export class BridgeExtension implements Extension {
  readonly name = 'bridge';
  private queue?: WorkQueue;
  private health?: CronTask;

  constructor(private readonly ctx: ExtensionContext, private readonly settings: Settings) {}

  private get prefix(): string {
    return `${this.ctx.baseTopic}/bridge`;
  }

  topics(): readonly string[] {
    return [`${this.prefix}/request/+`];
  }

  async start(): Promise<void> {
    this.queue = new WorkQueue(this.ctx.log);
    await this.publishInfo();
    await this.publishHealth();
    this.health = scheduleCron(this.settings.healthCron, () => void this.publishHealth());
  }

  async stop(): Promise<void> {
    this.health?.stop();
    this.health = undefined;
    await this.queue?.stop();
  }

  /** Acknowledges at once; the work happens on the queue (see the file comment). */
  async handle(message: InboundMessage): Promise<void> {
    const command = message.topic.slice(`${this.prefix}/request/`.length);
    const queued = this.queue?.push(() => this.answer(command, message));
    if (!queued) {
      void this.respond(command, message, { status: 'error', data: {}, error: 'the bridge is busy (too many queued requests) or stopping; try again' });
    }
  }

  private async answer(command: string, message: InboundMessage): Promise<void> {
    let transaction: unknown;
    let response: BridgeResponse;
    try {
      const body = this.parse(message.payload);
      transaction = body.transaction;
      // Handed over because hubnlu subscribed (a start without a session), not asked now: a command is not run twice.
      if (message.retained) throw new RequestError('a retained request is replayed to every new subscriber, so it is not run (publish requests without the retain flag; clear this one with an empty retained message)');
      const responseTopic = message.properties?.responseTopic;
      const problem = responseTopic ? this.ctx.responseTopicProblem(responseTopic) : undefined;
      if (problem !== undefined) {
        // Not run: the caller asked for the answer where hubnlu must not publish it; respond() sends the error to the command's own topic.
        this.ctx.log.warn({ command, responseTopic }, `bridge request refused: ${problem}`);
        throw new RequestError(problem);
      }
      const data = await this.run(command, body);
      response = { status: 'ok', data };
    } catch (err) {
      const known = err instanceof RequestError;
      if (!known) this.ctx.log.error({ command, err: (err as Error).message }, 'bridge request failed');
      response = { status: 'error', data: {}, error: known ? err.message : `${command} failed: ${(err as Error).message}` };
    }
    if (transaction !== undefined) response.transaction = transaction;
    await this.respond(command, message, response);
  }

  private parse(payload: Buffer): Record<string, unknown> {
    if (payload.byteLength > MAX_REQUEST_BYTES) throw new RequestError(`request payload is ${payload.byteLength} bytes; at most ${MAX_REQUEST_BYTES}`);
    let text: string;
    try {
      text = utf8.decode(payload).trim();
    } catch {
      throw new RequestError('request payload is not valid UTF-8');
    }
    if (text === '') return {};
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RequestError('request payload must be a JSON object (or empty), e.g. {"transaction": "1"}');
    }
    if (!isObject(body)) throw new RequestError('request payload must be a JSON object (or empty), e.g. {"transaction": "1"}');
    // "\ud800" decodes to a lone surrogate, which SQLite would store as bytes that are not UTF-8 (a label's gold_* columns).
    return wellFormedDeep(body) as Record<string, unknown>;
  }

  private async respond(command: string, message: InboundMessage, response: BridgeResponse): Promise<void> {
    const payload = JSON.stringify(response);
    const props = message.properties;
    const out: OutboundMessage = props?.responseTopic && this.ctx.responseTopicProblem(props.responseTopic) === undefined
      ? { topic: props.responseTopic, payload, properties: props.correlationData ? { correlationData: props.correlationData } : undefined }
      : { topic: `${this.prefix}/response/${isSafeSegment(command) ? command : escapeSegment(command)}`, payload };
    try {
      await this.ctx.publish(out);
    } catch (err) {
      this.ctx.log.warn({ command, topic: out.topic, err: (err as Error).message }, 'cannot publish bridge response');
    }
  }

  private async run(command: string, body: Record<string, unknown>): Promise<unknown> {
    if (!(BRIDGE_COMMANDS as readonly string[]).includes(command)) {
      throw new RequestError(`unknown command ${JSON.stringify(command)}; known: ${BRIDGE_COMMANDS.join(', ')}`);
    }
    if (!(this.settings.allow as readonly string[]).includes(command)) {
      throw new RequestError(`command ${command} is not allowed here; add it to extensions.bridge.allow`);
    }
    switch (command as BridgeCommand) {
      case 'health_check': {
        const health = this.ctx.health();
        return { healthy: health.connected, ...health };
      }
      case 'info':
        return this.info();
      case 'stats': {
        // What `hubnlu stats --since` takes, through the same parser; no since: all time.
        let sinceMs: number | undefined;
        if (body.since !== undefined) {
          if (typeof body.since !== 'string') throw new RequestError('since must be a string: "all", a duration such as "24h" or an ISO date such as "2026-11-01"');
          let since: Since;
          try {
            since = parseSinceOrAll(body.since);
          } catch (err) {
            throw new RequestError((err as Error).message);
          }
          sinceMs = since === ALL_TIME ? undefined : since;
        }
        return { ...this.ctx.control.stats({ sinceMs }), health: this.ctx.health() };
      }
      case 'classify':
        return this.classify(body);
      case 'reload_models': {
        const models = await this.ctx.control.reloadModels();
        await this.publishInfo();
        return { models };
      }
      case 'set_log_level': {
        if (typeof body.level !== 'string' || !LOG_LEVELS.includes(body.level)) throw new RequestError(`level must be one of ${LOG_LEVELS.join(', ')}`);
        this.ctx.control.setLogLevel(body.level);
        await this.publishInfo();
        return { level: body.level };
      }
      case 'label':
        return this.label(body);
    }
  }

  private async classify(body: Record<string, unknown>): Promise<unknown> {
    const text = body.text;
    if (typeof text !== 'string' || text.trim() === '') throw new RequestError('text must be a non-empty string');
    if (text.length > 10000) throw new RequestError('text is longer than 10000 characters');
    let tasks: TaskName[] = [...TASKS];
    if (body.tasks !== undefined) {
      if (!Array.isArray(body.tasks) || body.tasks.length === 0 || !body.tasks.every((t) => (TASKS as readonly unknown[]).includes(t))) {
        throw new RequestError(`tasks must be a non-empty list drawn from [${TASKS.join(', ')}]`);
      }
      tasks = [...new Set(body.tasks as TaskName[])];
    }
    if (body.lang !== undefined && typeof body.lang !== 'string') throw new RequestError('lang must be a string');
    if (body.intentFilter !== undefined && body.intentFilter !== null && !(Array.isArray(body.intentFilter) && body.intentFilter.every((x) => typeof x === 'string'))) {
      throw new RequestError('intentFilter must be a list of intent names or null');
    }
    if (body.store !== undefined && typeof body.store !== 'boolean') throw new RequestError('store must be true or false');
    const { analysis } = await this.ctx.control.classify(text, tasks, {
      lang: body.lang as string | undefined,
      intentFilter: (body.intentFilter as string[] | null | undefined) ?? undefined,
    });
    const data: Record<string, unknown> = { text: text.trim(), ...analysis };
    if (body.store === true) {
      // Asked to keep it: it goes through the utterance pipeline like any input (row, native result).
      const id = typeof body.id === 'string' && body.id ? body.id : undefined;
      const payload = JSON.stringify({ text, tasks, ...(id ? { id } : {}), ...(typeof body.siteId === 'string' ? { siteId: body.siteId } : {}), ...(body.lang ? { lang: body.lang } : {}) });
      const outcome = await this.ctx.submit({ topic: `${this.prefix}/request/classify`, payload: Buffer.from(payload), qos: 1, redelivered: false }, { format: 'json', tasks });
      // The log checks more than classify does (input.maxTextChars, control characters, the site id): say so, not `stored: true`.
      if (outcome.status === 'rejected') throw new RequestError(`not stored: ${outcome.code}: ${outcome.message}`);
      data.stored = true;
    }
    return data;
  }

  /** The checks `hubnlu label` makes (data/label-check.ts), in the agent's `control.label`; the shapes here. */
  private label(body: Record<string, unknown>): unknown {
    if (typeof body.id !== 'string' || body.id.trim() === '') throw new RequestError('id must be the id of a logged input, or "#<seq>" (its log sequence number)');
    // gold_by is printed by `hubnlu label --history` and `review` in a terminal: no escape sequences.
    // eslint-disable-next-line no-control-regex
    if (has(body, 'by') && (typeof body.by !== 'string' || body.by.length === 0 || body.by.length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(body.by))) {
      throw new RequestError('by must be a short name (1-64 characters, no control characters): who labelled it');
    }
    let input: LabelInput;
    try {
      input = labelInputFromJson(body);
    } catch (err) {
      if (err instanceof LabelError) throw new RequestError(err.message);
      throw err;
    }
    const outcome = this.ctx.control.label({ id: body.id, label: input, by: (body.by as string | undefined) ?? 'bridge' });
    if (!outcome.ok) throw new RequestError(outcome.message);
    return { id: body.id, seq: outcome.seq, label: outcome.label, warnings: outcome.warnings, previous: outcome.previous };
  }

  private info(): Record<string, unknown> {
    const models = this.ctx.models.loadedModels().map((m) => ({ ...m, labels: m.task === 'langid' ? [] : this.ctx.models.labels(m.task) }));
    return {
      version: this.ctx.version,
      models,
      logLevel: this.ctx.control.logLevel(),
      commands: this.settings.allow,
      config: this.ctx.control.config(),
    };
  }

  private async publishInfo(): Promise<void> {
    try {
      await this.ctx.publish({ topic: `${this.prefix}/info`, payload: JSON.stringify(this.info()), retain: true });
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message }, 'cannot publish bridge/info');
    }
  }

  private async publishHealth(): Promise<void> {
    try {
      await this.ctx.publish({ topic: `${this.prefix}/health`, payload: JSON.stringify(this.ctx.health()), retain: true });
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message }, 'cannot publish bridge/health');
    }
  }
}

export const bridgeExtension: ExtensionDefinition<typeof settings> = {
  name: 'bridge',
  settings,
  create: (ctx, s) => new BridgeExtension(ctx, s),
};
