/**
 * Home Assistant MQTT discovery (issue 8) as an extension.
 *
 * - Start: publish every entity's retained config, then a retained list of the
 *   config topics published (`<base>/homeassistant/discovery`), then the stats.
 * - `homeassistant/status` = `online` (Home Assistant restarted): republish after
 *   a random delay between the configured bounds, so a house of devices does not
 *   answer in one burst.
 * - Each answered input: the event and last intent/sentiment come from
 *   `outputs()`, so they are written to the outbox with the result and published
 *   at least once. The periodic figures (inputs per minute, p99 latency, errors)
 *   are published directly every `statsIntervalSeconds`: a lost one is replaced
 *   by the next.
 * - Removal: an empty retained config deletes an entity. With `enabled: false`
 *   the extension only watches its retained list and, if a previous run left
 *   one, empties every config it names (switching off takes effect at the next
 *   start, with no timing guess). The same list clears configs a changed
 *   `discoveryPrefix` or client id left behind. `removeOnStop` removes at stop.
 */
import type { InboundMessage } from '../../transport/mqtt-connection.js';
import type { AnalysedInput, Extension, ExtensionContext, ExtensionDefinition, OutboundMessage } from '../extension.js';
import { discoveryMessages, isEntityConfigTopic, removalMessage, stateTopics, type StateTopics } from './discovery.js';
import { homeAssistantNamer, nativeNamer, type IntentNamer } from './intent-names.js';
import { homeAssistantSettings, type HomeAssistantConfig } from './settings.js';
import { resultMessages, statsMessage } from './states.js';

export interface HomeAssistantOptions {
  readonly settings: HomeAssistantConfig;
  /** Random source for the republish delay (tests pass a fixed one). */
  readonly random?: () => number;
}

/** The retained record of what this agent published. */
interface PublishedRecord {
  readonly topics: readonly string[];
}

export class HomeAssistantExtension implements Extension {
  readonly name = 'homeAssistant';
  private readonly topicsOf: StateTopics;
  private readonly namer: IntentNamer;
  private statsTimer?: NodeJS.Timeout;
  private readonly pending = new Set<NodeJS.Timeout>();
  /** The intent model version the discovery config was built for; a swapped model republishes. */
  private discoveredModel?: string;
  private running = false;

  /** Does nothing: `start()` does the work. */
  constructor(
    private readonly ctx: ExtensionContext,
    private readonly options: HomeAssistantOptions,
  ) {
    this.topicsOf = stateTopics(ctx.baseTopic);
    this.namer = options.settings.intentNames === 'homeassistant' ? homeAssistantNamer : nativeNamer;
  }

  private get settings(): HomeAssistantConfig {
    return this.options.settings;
  }

  topics(): readonly string[] {
    return this.settings.enabled ? [this.settings.statusTopic, this.topicsOf.published] : [this.topicsOf.published];
  }

  async start(): Promise<void> {
    this.running = true;
    if (!this.settings.enabled) return;
    await this.publishDiscovery();
    this.statsTimer = setInterval(() => void this.publishStats(), this.settings.statsIntervalSeconds * 1000);
    this.statsTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.statsTimer) clearInterval(this.statsTimer);
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    if (this.settings.enabled && this.settings.removeOnStop) {
      const topics = this.configTopics();
      await this.remove(topics);
      await this.ctx.publish(removalMessage(this.topicsOf.published));
      this.ctx.log.info({ entities: topics.length }, 'Home Assistant entities removed (homeAssistant.removeOnStop)');
    }
  }

  /** Never waits on the delayed republish: acknowledgements are not held up. */
  async handle(message: InboundMessage): Promise<void> {
    if (message.topic === this.topicsOf.published) {
      await this.onPublishedRecord(message.payload.toString());
      return;
    }
    if (this.settings.enabled && message.topic === this.settings.statusTopic && message.payload.toString().trim() === 'online') {
      this.scheduleRepublish();
    }
  }

  outputs(result: AnalysedInput): readonly OutboundMessage[] {
    if (!this.settings.enabled) return [];
    // The model discovery describes, not the one that answered: an answer in another language comes from that
    // language's model (hubnlu-intent-de), and taking it for a swap republished every config at each such answer.
    const intentModel = this.ctx.models.loadedModels().find((m) => m.task === 'intent');
    const version = intentModel ? `${intentModel.name} ${intentModel.version}` : undefined;
    if (version && this.discoveredModel !== undefined && version !== this.discoveredModel) {
      // A reloaded model may have other labels: the event entity's event_types must follow.
      this.discoveredModel = version;
      void this.publishDiscovery().catch((err: unknown) => this.ctx.log.warn({ err }, 'republishing Home Assistant discovery failed'));
    }
    return resultMessages(result, this.topicsOf, this.namer);
  }

  private scheduleRepublish(): void {
    // One republish pending answers every `online` that comes before it: a burst (or anyone else publishing `online`)
    // would otherwise have each one republish every config.
    if (this.pending.size > 0) return;
    const { republishDelayMinMs: min, republishDelayMaxMs: max } = this.settings;
    const random = this.options.random ?? Math.random;
    const delay = Math.round(min + Math.max(0, max - min) * random());
    this.ctx.log.debug({ delayMs: delay }, 'Home Assistant online: republishing discovery');
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (!this.running) return;
      this.publishDiscovery().catch((err: unknown) => this.ctx.log.warn({ err }, 'republishing Home Assistant discovery failed'));
    }, delay);
    this.pending.add(timer);
  }

  private discovery(eventTypes: readonly string[]): ReturnType<typeof discoveryMessages> {
    return discoveryMessages({
      discoveryPrefix: this.settings.discoveryPrefix,
      baseTopic: this.ctx.baseTopic,
      clientId: this.ctx.clientId,
      deviceName: this.settings.deviceName,
      version: this.ctx.version,
      intentModel: this.discoveredModel,
      eventTypes,
    });
  }

  /** This configuration's config topics (they do not depend on the model, so they are known before anything is published). */
  private configTopics(): string[] {
    return this.discovery([]).map((m) => m.topic);
  }

  private async publishDiscovery(): Promise<void> {
    const intentModel = this.ctx.models.loadedModels().find((m) => m.task === 'intent');
    if (intentModel) this.discoveredModel = `${intentModel.name} ${intentModel.version}`;
    const messages = this.discovery(this.namer.eventTypes(this.ctx.models.labels('intent')));
    for (const m of messages) await this.ctx.publish(m);
    const record: PublishedRecord = { topics: messages.map((m) => m.topic) };
    await this.ctx.publish({ topic: this.topicsOf.published, payload: JSON.stringify(record), qos: 1, retain: true });
    await this.publishStats();
    this.ctx.log.info({ entities: messages.length, prefix: this.settings.discoveryPrefix }, 'Home Assistant discovery published');
  }

  private async publishStats(): Promise<void> {
    try {
      await this.ctx.publish(statsMessage(this.ctx.health(), this.topicsOf));
    } catch (err) {
      this.ctx.log.debug({ err }, 'Home Assistant stats not published (offline?); the next interval retries');
    }
  }

  /** A retained record from this or an earlier run: empty the configs it names that this run does not publish. */
  private async onPublishedRecord(payload: string): Promise<void> {
    if (payload === '') return;
    let named: unknown[];
    try {
      const record = JSON.parse(payload) as Partial<PublishedRecord>;
      named = Array.isArray(record.topics) ? record.topics : [];
    } catch {
      this.ctx.log.warn({ topic: this.topicsOf.published }, 'ignoring a malformed Home Assistant discovery record');
      return;
    }
    const topics = named.filter((t): t is string => typeof t === 'string' && isEntityConfigTopic(t));
    if (topics.length < named.length) {
      this.ctx.log.warn({ topic: this.topicsOf.published, ignored: named.length - topics.length }, 'ignoring entries of the Home Assistant discovery record that are not config topics of hubnlu entities (left alone)');
    }
    const current = new Set(this.settings.enabled ? this.configTopics() : []);
    const stale = topics.filter((t) => !current.has(t));
    if (stale.length === 0) return;
    await this.remove(stale);
    if (!this.settings.enabled) await this.ctx.publish(removalMessage(this.topicsOf.published));
    this.ctx.log.info({ entities: stale.length }, this.settings.enabled ? 'stale Home Assistant entities removed' : 'Home Assistant entities removed (homeAssistant.enabled is false)');
  }

  private async remove(topics: readonly string[]): Promise<void> {
    for (const topic of topics) await this.ctx.publish(removalMessage(topic));
  }
}

/** Registered in src/extensions/index.ts; built even when disabled, to remove what an enabled run published. */
export const homeAssistantExtension: ExtensionDefinition<typeof homeAssistantSettings> = {
  name: 'homeAssistant',
  settings: homeAssistantSettings,
  create: (ctx, settings) => new HomeAssistantExtension(ctx, { settings }),
  createWhenDisabled: true,
};
