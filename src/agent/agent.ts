/**
 * The composition root. Reading `start()` tells how hubnlu fits together:
 * database → models → (embedded broker) → worker + outbox → resume what a
 * previous run left → connect and subscribe. `stop()` undoes it in reverse.
 *
 * Components receive what they need here; none reaches for globals.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import type { Analyzer, ModelRef, TaskName } from '../model/types.js';
import { openDatabase, type Db } from '../store/database.js';
import { LogStore, type OutgoingMessage } from '../store/log-store.js';
import type { EmbeddedBroker } from '../transport/embedded-broker.js';
import { MqttConnection } from '../transport/mqtt-connection.js';
import { escapeSegment, matchTopic, sharedFilter } from '../transport/topics.js';
import { buildError } from './messages.js';
import { packageVersion, resolveFromPackage } from '../util/paths.js';
import { redactUrl } from '../util/redact.js';
import { ModelSlot } from '../model/model-slot.js';
import { EXTENSIONS } from '../extensions/index.js';
import { TopicDispatcher } from '../extensions/dispatcher.js';
import type { AgentControl, AnalysedInput, Extension, ExtensionContext, FailedInput, LabelOutcome, OutboundMessage, ProcessingCounts } from '../extensions/extension.js';
import { redactConfig } from '../config/load.js';
import { computeStats } from '../store/queries.js';
import { describeRef, findLabelTarget, parseInputRef } from '../store/labels.js';
import { checkLabel, LabelError, type CheckedLabel, type LabelVocabulary } from '../data/label-check.js';
import { vocabularyFromConfig } from '../learn/label-vocabulary.js';
import { InferenceWorker } from './inference-worker.js';
import { Intake, type Route } from './intake.js';
import { responseTopicProblem } from './response.js';
import { OutboxPublisher } from './outbox-publisher.js';
import { MaintenanceSchedule } from './maintenance.js';
import { WalCheckpointer, type CheckpointerStats } from '../store/checkpointer.js';
import { DatabaseLock } from '../store/lock.js';
import { DatabaseFileWatch } from '../store/file-watch.js';
import { trace } from './latency-trace.js';
import { HealthMonitor } from './health.js';
import { applyIntentFilter } from './intent-filter.js';
import { ShadowRunner, loadShadowModels, shadowTasks, type ShadowStats } from './shadow.js';
import type { WorkerAnalyzerEvent } from '../model/worker-analyzer.js';
import { modelStoreFor } from '../learn/live-model.js';
import { ModelPointerWatch } from '../learn/model-watch.js';
import { RetrainSchedule } from '../learn/retrain-schedule.js';

export interface LoadedModels extends Analyzer {
  close(): Promise<void>;
}

/** Loads the live models; `onEvent` hears a model thread's crashes, restarts and give-up (models.thread: worker). */
export type ModelLoader = (config: Config, onEvent?: (event: WorkerAnalyzerEvent) => void) => Promise<LoadedModels>;

export interface AgentInfo {
  readonly brokerUrl: string;
  readonly embeddedBroker: boolean;
  readonly models: readonly ModelRef[];
  readonly databasePath: string;
  readonly subscriptions: readonly string[];
  /** The extensions that are enabled, in registration order. */
  readonly extensions: readonly string[];
}

export interface AgentStats extends ProcessingCounts {
  readonly inFlight: number;
}

export class Agent {
  private db?: Db;
  private models?: ModelSlot;
  private broker?: EmbeddedBroker;
  private connection?: MqttConnection;
  private worker?: InferenceWorker;
  private publisher?: OutboxPublisher;
  private intake?: Intake;
  private maintenance?: MaintenanceSchedule;
  private checkpointer?: WalCheckpointer;
  private health?: HealthMonitor;
  private extensions: Extension[] = [];
  private readonly loggers: Logger[] = [];
  private info?: AgentInfo;
  private lock?: DatabaseLock;
  private fileWatch?: DatabaseFileWatch;
  private fatalError?: Error;
  private fatalListener?: (err: Error) => void;
  private shadowModels?: ModelSlot;
  /** Why models.shadow did not load at start (the agent runs without it until a `reload_models` loads it). */
  private shadowLoadError?: string;
  /** Makes a loaded shadow model the running shadow (set once the worker exists). */
  private startShadow?: (models: LoadedModels) => void;
  private shadow?: ShadowRunner;
  private modelWatch?: ModelPointerWatch;
  private retrain?: RetrainSchedule;

  /** Does nothing: `start()` does the work (STYLE: constructors do nothing). */
  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly loadModels: ModelLoader,
    /** The shadow candidate (models.shadow); null when none is configured. */
    private readonly loadShadow: (config: Config, onEvent?: (event: WorkerAnalyzerEvent) => void) => Promise<LoadedModels | null> = loadShadowModels,
  ) {}

  /** The shadow thread's crashes, restarts and give-up, passed to the shadow runner (which logs and counts them). */
  private readonly shadowEvents = (event: WorkerAnalyzerEvent): void => this.shadow?.threadEvent(event);

  /**
   * The live model thread's events (models.thread: worker). An exit fails the batch in the thread, whose inputs are
   * then analysed one by one by the restarted thread; past the restart policy the models move to the main thread.
   */
  private readonly liveEvents = (event: WorkerAnalyzerEvent): void => {
    if (event.type === 'exit') this.log.error({ err: event.error.message, restarting: event.restarting }, 'the live model thread exited');
    else if (event.type === 'restarted') this.log.warn({ restarts: event.restarts }, 'the live model thread was restarted');
    else void this.modelsToMainThread(event.error);
  };

  private async modelsToMainThread(err: Error): Promise<void> {
    this.log.error({ err: err.message }, 'the live model thread keeps exiting; loading the models on the main thread (reload_models tries the thread again)');
    try {
      const fresh = await this.loadModels({ ...this.config, models: { ...this.config.models, thread: 'main' } });
      if (!this.models) return void (await fresh.close());
      void this.models.swap(fresh);
      this.log.warn({ models: fresh.loadedModels() }, 'the live models run on the main thread');
    } catch (loadErr) {
      this.log.error({ err: (loadErr as Error).message }, 'the models could not be loaded on the main thread either; inputs fail with inference_failed');
    }
  }

  /** A module's logger; kept so `set_log_level` reaches every one (pino children keep their own level). */
  private child(bindings: Record<string, string>): Logger {
    const child = this.log.child(bindings);
    this.loggers.push(child);
    return child;
  }

  async start(): Promise<AgentInfo> {
    // The models load first: with models.thread worker they load on another core while this thread opens the database
    // and connects (cold start). A start that fails before it needs them closes them.
    const loading = this.loadModels(this.config, this.liveEvents);
    loading.catch(() => undefined); // awaited in startWith; a failure before then is not an unhandled rejection
    try {
      return await this.startWith(loading);
    } catch (err) {
      if (!this.models) void loading.then((m) => m.close()).catch(() => undefined);
      throw err;
    }
  }

  private async startWith(loading: Promise<LoadedModels>): Promise<AgentInfo> {
    const { config, log } = this;
    const dbPath = resolveFromCwd(config.storage.path);
    // One agent per database (a second one exits 78), then open: quick_check and a write probe (damaged or read-only: exit 78).
    if (dbPath !== ':memory:') this.lock = DatabaseLock.acquire(dbPath);
    if (this.lock?.replacedStale) log.warn({ lock: this.lock.path, previous: this.lock.replacedStale }, 'took over a stale lock left by an agent that is no longer running');
    this.db = openDatabase(dbPath, { synchronous: config.storage.synchronous, busyTimeoutMs: config.storage.busyTimeoutMs });
    const fileWatch = dbPath !== ':memory:' ? new DatabaseFileWatch(dbPath) : undefined;
    this.fileWatch = fileWatch;
    fileWatch?.start((err) => this.fail(err));
    // WAL checkpoints on their own thread (issue 10), started by the writes themselves when they come fast, ended when idle.
    const checkpointer = dbPath !== ':memory:' && config.storage.checkpointThread ? new WalCheckpointer(this.db, dbPath, this.child({ module: 'checkpoint' }), { onPauseEnd: trace?.walPause.bind(trace) }) : undefined;
    this.checkpointer = checkpointer;
    const store = new LogStore(this.db, { dedupeWindowMs: config.input.dedupeWindowSeconds * 1000, path: dbPath, afterWrite: fileWatch && (() => fileWatch.check()), onFatal: (err) => this.fail(err) });

    // The slot holds the live models; `reload_models` swaps them without stopping the pipeline.
    const slot = new ModelSlot(await loading, config.models.unknownThreshold ?? 0.5);
    this.models = slot;
    // The shadow candidate (models.shadow) gets its own slot, so `reload_models` swaps it the same way.
    // A candidate that does not load never keeps the live path from starting (a restart after its directory went away
    // would otherwise stop every answer): the agent runs without it, says why, and `reload_models` tries again.
    const shadowLoaded = await this.loadShadow(config, this.shadowEvents).catch((err: Error) => {
      this.shadowLoadError = `models.shadow: ${err.message}`;
      this.log.error({ err: err.message }, `${this.shadowLoadError}; running without the shadow model (fix the directory, then reload_models or restart; or remove models.shadow)`);
      return null;
    });

    let brokerUrl = config.mqtt.url;
    if (!brokerUrl) {
      const persistence = config.mqtt.embedded.persistence;
      // Loaded only here: aedes and its LevelDB persistence cost a start with an external broker (mqtt.url) ~50 ms for nothing (issue 10).
      const { EmbeddedBroker } = await import('../transport/embedded-broker.js');
      this.broker = new EmbeddedBroker(config.mqtt.embedded.host, config.mqtt.embedded.port, this.child({ module: 'broker' }), {
        persistence: persistence ? resolveFromCwd(persistence) : undefined,
      });
      brokerUrl = await this.broker.start();
    }

    const base = config.mqtt.baseTopic;
    const protocolVersion = config.mqtt.url ? config.mqtt.protocolVersion : 4; // aedes speaks MQTT 3.1.1
    const connection = new MqttConnection(
      {
        url: brokerUrl,
        clientId: config.mqtt.clientId,
        protocolVersion,
        username: config.mqtt.username,
        password: config.mqtt.password,
        sessionExpirySeconds: config.mqtt.sessionExpirySeconds,
        keepaliveSeconds: config.mqtt.keepaliveSeconds,
        reconnectPeriodMs: config.mqtt.reconnectPeriodMs,
        reconnectMaxMs: config.mqtt.reconnectMaxMs,
        tls: config.mqtt.tls.ca || config.mqtt.tls.cert ? { ...config.mqtt.tls } : undefined,
        stateTopic: `${base}/bridge/state`,
        separatePublisher: config.mqtt.separatePublishConnection,
        ackAhead: config.input.commitBatch, // group commit: inputs past the packet loop, acknowledged after their batch commits
        ackHoldMs: config.input.ackHoldMs,
      },
      this.child({ module: 'mqtt' }),
    );
    this.connection = connection;
    const publisher = new OutboxPublisher(store, connection, this.child({ module: 'outbox' }), {
      deferWrites: () => checkpointer?.pausing === true,
      // A refused result is told on its site's error topic, like a rejected input (best effort: the broker may deny that too).
      refusalNotice: ({ seq, topic, refusal, input }) => ({
        topic: `${base}/${escapeSegment(input.siteId)}/error`,
        payload: JSON.stringify({
          ...buildError({
            id: input.id,
            siteId: input.siteId,
            sessionId: input.sessionId,
            code: 'result_refused',
            message: `the broker refused the message on ${topic} (${refusal.text}); it is kept, not resent: allow the topic, then run hubnlu outbox retry ${seq}`,
            topic: input.topic,
            receivedAt: input.receivedAt,
            excerpt: (input.text ?? '').slice(0, 200),
          }),
          refused: { seq, topic, reasonCode: refusal.code, reason: refusal.name },
        }),
      }),
    });
    this.publisher = publisher;
    const health = new HealthMonitor({
      counts: () => {
        const s = this.stats();
        return { received: s.received, accepted: s.accepted, rejected: s.rejected, duplicates: s.duplicates, processed: s.processed, failed: s.failed, published: s.published };
      },
      inFlight: () => this.worker?.inFlight ?? 0,
      outboxUnpublished: () => store.unpublishedCount(),
      outboxRefused: () => store.refusedCount(),
      connected: () => connection.isOnline,
      databasePath: dbPath,
    });
    this.health = health;

    const version = packageVersion();
    // Extensions (issue 8): built from the registered list and `extensions.<name>.enabled`.
    let intakeRef: Intake | undefined;
    // What a caller's Response Topic may not name (response.ts): set once the extensions and routes are known.
    let ownTopics: readonly string[] = [`${base}/#`];
    const context = (name: string): ExtensionContext => ({
      log: this.child({ module: `ext:${name}` }),
      baseTopic: base,
      version,
      models: { loadedModels: () => slot.loadedModels(), labels: (task) => slot.labels(task) },
      publish: (m: OutboundMessage) => connection.publish(m.topic, m.payload, { qos: m.qos ?? 1, retain: m.retain ?? false, properties: m.properties }),
      health: () => health.snapshot(),
      submit: (message, route) => intakeRef!.submit(message, route),
      control: this.control(store),
      responseTopicProblem: (topic) => responseTopicProblem(topic, ownTopics),
      mqtt5: protocolVersion === 5,
      clientId: config.mqtt.clientId,
    });
    const settings = config.extensions as Record<string, { enabled: boolean }>;
    this.extensions = Object.values(EXTENSIONS)
      .filter((d) => settings[d.name]?.enabled || ('createWhenDisabled' in d && d.createWhenDisabled))
      .map((d) => (d.create as (ctx: ExtensionContext, s: unknown) => Extension)(context(d.name), settings[d.name]));
    const extLog = this.child({ module: 'extensions' });
    // One extension's bug must not cost the others (or the result) their messages.
    const outputs = (r: AnalysedInput): OutgoingMessage[] =>
      this.extensions.flatMap((e) => {
        if (!e.outputs) return [];
        try {
          return e.outputs(r);
        } catch (err) {
          extLog.error({ extension: e.name, err: (err as Error).message, id: r.input.id }, 'output adapter failed');
          return [];
        }
      });
    const failures = (f: FailedInput): OutgoingMessage[] =>
      this.extensions.flatMap((e) => {
        if (!e.failures) return [];
        try {
          return e.failures(f);
        } catch (err) {
          extLog.error({ extension: e.name, err: (err as Error).message, id: f.input.id }, 'error adapter failed');
          return [];
        }
      });

    const routes: Route[] = config.input.topics.map((t) => ({ topic: t.topic, format: t.format, tasks: t.tasks, resultTopic: t.resultTopic, payloadSiteId: t.payloadSiteId }));
    ownTopics = [`${base}/#`, ...this.extensions.flatMap((e) => e.topics()), ...routes.map((r) => r.topic)];
    const worker = new InferenceWorker(store, slot, (queued) => publisher.offer(queued), this.child({ module: 'worker' }), {
      capacity: config.input.maxInFlight,
      // A new input is stored with its result: the worker's batch is the transaction (input.commitBatch, at most 32 analysed together).
      batchSize: Math.min(config.input.commitBatch, 32),
      gatherMs: config.input.commitWaitMs,
      beforeCommit: checkpointer && (() => checkpointer.beforeCommit()),
      outputs,
      failures,
      onResult: (ms) => health.noteLatency(ms),
      // The route intake chose (the first that matches) names the language, if any.
      routeLang: (topic) => config.input.topics.find((t) => matchTopic(t.topic, topic) !== null)?.lang,
      afterCommit: (batch, completions) => this.shadow?.offer(batch, completions),
    });
    this.worker = worker;
    const startShadow = (models: LoadedModels): void => {
      if (this.shadowModels) {
        void models.close(); // two reloads at once: the first one's shadow runs
        return;
      }
      this.shadowModels = new ModelSlot(models, config.models.unknownThreshold ?? 0.5);
      this.shadowLoadError = undefined;
      this.shadow = new ShadowRunner(store, this.shadowModels, this.child({ module: 'shadow' }), {
        tasks: shadowTasks(config),
        maxQueued: config.models.shadow?.maxQueued ?? 1000,
        busy: () => worker.inFlight > 0,
        idle: () => worker.drain(),
      });
      log.info({ models: this.shadowModels.loadedModels(), nice: config.models.shadow?.nice }, 'shadow model loaded in its own thread; its predictions go to the log only');
    };
    if (shadowLoaded) startShadow(shadowLoaded);
    this.startShadow = startShadow;
    const intake = new Intake(store, worker, () => publisher.kick(), this.child({ module: 'intake' }), {
      routes,
      baseTopic: base,
      ownTopics,
      limits: { maxPayloadBytes: config.input.maxPayloadBytes, maxTextChars: config.input.maxTextChars },
      failures,
      onAccepted: () => {
        health.noteAccepted();
        this.checkpointer?.noteInput();
      },
      groupCommit: { maxBatch: config.input.commitBatch, maxWaitMs: config.input.commitWaitMs },
    });
    this.intake = intake;
    intakeRef = intake;

    // Resume: inputs a previous run stored but never answered.
    let resumed = 0;
    for (let after = 0; ; ) {
      const batch = store.pending(after, 1000);
      if (batch.length === 0) break;
      for (const item of batch) worker.push(item);
      resumed += batch.length;
      after = batch[batch.length - 1].seq;
    }
    if (resumed > 0) log.info({ resumed }, 'resuming inputs stored by a previous run');

    publisher.start();
    this.maintenance = new MaintenanceSchedule(this.db, config.storage.maintenanceCron, config.storage.retentionDays, this.child({ module: 'maintenance' }), (err) => this.fail(err));
    this.maintenance.start();

    // The learning loop (issue 9): hot swap when `hubnlu models promote|rollback` moves the pointer; nightly retrain.
    const modelStore = modelStoreFor(config);
    const learnLog = this.child({ module: 'learning' });
    if (config.learning.watchModels) {
      this.modelWatch = new ModelPointerWatch(modelStore, 'intent', () => this.control(store).reloadModels(), learnLog);
      this.modelWatch.start();
    }
    this.retrain = new RetrainSchedule(config, modelStore, this.db, learnLog, async (event) => {
      if (event.promoted) await (this.modelWatch ? this.modelWatch.check() : this.control(store).reloadModels());
      await connection.publish(`${base}/bridge/event/retrain`, JSON.stringify(event), { qos: 1, retain: false });
    });
    this.retrain.start();

    // One inbound index: extension topics first, then the utterance intake.
    const dispatcher = new TopicDispatcher(this.child({ module: 'dispatch' }));
    // input.shareGroup: inputs arrive through MQTT 5 shared subscriptions, one agent of the group gets each.
    const inputFilter = (filter: string): string => sharedFilter(filter, config.input.shareGroup);
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    for (const e of this.extensions) {
      if (e.topics().length === 0) continue;
      const handle = e.handle?.bind(e);
      if (!handle) throw new Error(`extension ${e.name} subscribes to ${e.topics().join(', ')} but has no handle()`);
      // A message can arrive as soon as we subscribe; it waits until the extensions have started.
      const filters = e.takesInputs ? e.topics().map(inputFilter) : e.topics();
      dispatcher.addTarget({ name: e.name, filters, handle: (m) => ready.then(() => handle(m)) });
    }
    dispatcher.addTarget({ name: 'intake', filters: routes.map((r) => inputFilter(r.topic)), handle: intake.handle });
    for (const o of dispatcher.overlaps()) {
      log.warn(o, `topic ${o.filter} is owned by ${o.owner}; ${o.shadowed} will not see its messages`);
    }
    const subscriptions = dispatcher.subscriptions();
    await connection.start(subscriptions, dispatcher.handle);
    for (const e of this.extensions) await e.start();
    markReady();
    this.info = {
      brokerUrl: redactUrl(brokerUrl),
      embeddedBroker: !config.mqtt.url,
      models: slot.loadedModels(),
      databasePath: dbPath,
      subscriptions,
      extensions: this.extensions.map((e) => e.name).filter((name) => settings[name]?.enabled), // not those built only to clean up (createWhenDisabled)
    };
    return this.info;
  }

  /**
   * `listener` is told once of an error a restart cannot fix (a corrupt, read-only, deleted or replaced database):
   * intake has stopped acknowledging; the caller should stop the agent and exit with EXIT.needsAttention.
   */
  onFatal(listener: (err: Error) => void): void {
    this.fatalListener = listener;
    if (this.fatalError) listener(this.fatalError);
  }

  private fail(err: Error): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.intake?.close();
    this.log.fatal({ err: err.message, code: (err as { code?: string }).code }, 'stopping: the database cannot be used');
    this.fatalListener?.(err);
  }

  /** What the bridge may ask of the agent. */
  private control(store: LogStore): AgentControl {
    return {
      classify: async (text, tasks, options = {}) => {
        const lease = this.models!.acquire();
        try {
          const { unknownThreshold = lease.unknownThreshold, ...analysed } = await lease.models.analyze(text, tasks, options.lang ? { lang: options.lang, langSource: 'payload' } : undefined);
          let analysis: typeof analysed = analysed;
          if (analysis.intent && options.intentFilter && options.intentFilter.length > 0) {
            analysis = { ...analysis, intent: applyIntentFilter(analysis.intent, options.intentFilter, unknownThreshold) };
          }
          return { analysis, unknownThreshold };
        } finally {
          lease.release();
        }
      },
      reloadModels: async () => {
        const fresh = await this.loadModels(this.config, this.liveEvents);
        const before = this.models!.loadedModels();
        const retired = this.models!.swap(fresh);
        const after = fresh.loadedModels();
        this.log.info({ before, after }, 'models reloaded');
        void retired.then(() => this.log.debug('previous models closed'));
        if (!this.shadowModels && this.shadowLoadError !== undefined) {
          // It did not load at start: try again; still failing, the agent runs on without it.
          try {
            const shadow = await this.loadShadow(this.config, this.shadowEvents);
            if (shadow) this.startShadow?.(shadow);
          } catch (err) {
            this.shadowLoadError = `models.shadow: ${(err as Error).message}`;
            this.log.warn({ err: (err as Error).message }, 'shadow model still does not load; running without it');
          }
        } else if (this.shadowModels) {
          // A shadow candidate that no longer loads keeps the previous one: the live reload has already succeeded.
          try {
            const shadow = await this.loadShadow(this.config, this.shadowEvents);
            if (shadow) {
              void this.shadowModels.swap(shadow);
              this.shadow?.setDisabled(false);
            }
          } catch (err) {
            this.log.warn({ err: (err as Error).message }, 'shadow model not reloaded; keeping the previous one');
          }
        }
        return after;
      },
      setLogLevel: (level) => {
        this.log.level = level;
        for (const l of this.loggers) l.level = level;
      },
      logLevel: () => this.log.level,
      label: (request): LabelOutcome => {
        // The checks `hubnlu label` makes (one input, its text, the models' labels), then LogStore.label by seq.
        const found = findLabelTarget(this.db!, parseInputRef(request.id));
        if (!found.ok) return { ok: false, code: found.code, message: found.message };
        let checked: CheckedLabel;
        try {
          checked = checkLabel(found.target.text, request.label, this.labelVocabulary(request.label.intent));
        } catch (err) {
          if (err instanceof LabelError) return { ok: false, code: 'invalid', message: err.message };
          throw err;
        }
        const { warnings, ...label } = checked;
        const r = store.label({ seq: found.target.seq }, { ...label, by: request.by, at: Date.now() });
        if (r.ok) return { ...r, label, warnings };
        return { ok: false, code: r.code, message: `the input ${describeRef(parseInputRef(request.id))} is no longer there to label (deleted by retention?)` };
      },
      stats: (options = {}) => ({
        agent: this.stats(),
        models: this.models?.loadedModels() ?? [],
        modelGeneration: this.models?.generation ?? 0,
        ...(this.shadow
          ? { shadow: { models: this.shadowModels!.loadedModels(), ...this.shadow.stats, waiting: this.shadow.queued } }
          : this.shadowLoadError !== undefined
            ? { shadow: { disabled: true, loadError: this.shadowLoadError } }
            : {}),
        log: computeStats(this.db!, { sinceMs: options.sinceMs }),
      }),
      config: () => redactConfig(this.config),
    };
  }

  /**
   * What a bridge label is checked against, as `hubnlu label` does (label-vocabulary.ts), plus the live intent labels.
   * Whether a new intent is already a logged gold intent is asked of that one name (no scan of every label).
   */
  private labelVocabulary(intent: string | null | undefined): LabelVocabulary {
    const vocab = vocabularyFromConfig(this.config);
    const intents = new Set([...vocab.intents, ...(this.models?.labels('intent') ?? [])]);
    const logged = typeof intent === 'string' && !intents.has(intent) && this.db!.prepare('SELECT 1 FROM inputs WHERE gold_intent = ? LIMIT 1').get(intent) !== undefined;
    return { intents, slotTypes: vocab.slotTypes, loggedIntents: new Set(logged ? [intent] : []) };
  }

  /** The agent's connection's `wal_autocheckpoint` (the backstop, 4,096, while the checkpoint thread runs; else SQLite's 1,000) and that thread's counts. */
  walCheckpoints(): { autocheckpoint: number; thread?: Readonly<CheckpointerStats> } {
    return { autocheckpoint: this.db?.open ? (this.db.pragma('wal_autocheckpoint', { simple: true }) as number) : -1, thread: this.checkpointer?.stats };
  }

  stats(): AgentStats {
    const i = this.intake?.stats;
    const w = this.worker?.stats;
    return {
      received: i?.received ?? 0,
      accepted: i?.accepted ?? 0,
      rejected: i?.rejected ?? 0,
      duplicates: i?.duplicates ?? 0,
      processed: w?.processed ?? 0,
      failed: w?.failed ?? 0,
      published: this.publisher?.published ?? 0,
      inFlight: this.worker?.inFlight ?? 0,
    };
  }

  /** The shadow runner's counters, or undefined without models.shadow. */
  shadowStats(): Readonly<ShadowStats> | undefined {
    return this.shadow ? { ...this.shadow.stats } : undefined;
  }

  /** Resolves when the shadow model has caught up with every answered input (tests, benches). */
  async shadowIdle(): Promise<void> {
    await this.worker?.drain();
    await this.shadow?.drain();
  }

  /** The nightly retrain schedule (tests run it once with `runOnce()`). */
  get retrainSchedule(): RetrainSchedule | undefined {
    return this.retrain;
  }

  /** The live models (for tests and the bridge): swapped by `reload_models`. */
  get modelSlot(): ModelSlot | undefined {
    return this.models;
  }

  /**
   * Ordered stop: stop the extensions (they finish queued requests), stop maintenance, stop accepting
   * (unacknowledged messages stay with the broker's session), finish and store in-flight inferences,
   * flush the outbox, end MQTT, close SQLite and the models, stop the embedded broker.
   */
  async stop(): Promise<void> {
    // From here a write blocked by another process's lock gives up fast: stopping must not wait out busyTimeoutMs per write.
    if (this.db?.open) this.db.pragma('busy_timeout = 250');
    this.fileWatch?.stop();
    for (const e of [...this.extensions].reverse()) {
      try {
        await e.stop();
      } catch (err) {
        this.log.warn({ extension: e.name, err: (err as Error).message }, 'extension did not stop cleanly');
      }
    }
    await this.maintenance?.stop();
    this.modelWatch?.stop();
    await this.retrain?.stop();
    this.intake?.close();
    await this.worker?.stop();
    // Nothing analyses from here: the models close (a model thread disposes and ends) while the outbox flushes.
    const modelsClosed = this.models?.close();
    await this.shadow?.close();
    if (this.publisher) {
      const flushed = await this.publisher.drain(1500);
      if (!flushed) this.log.warn('some results were not acknowledged before stopping; they are republished on the next start');
      this.publisher.stop();
    }
    await this.connection?.stop();
    // Its connection closes first, so the agent's close (the last) checkpoints and removes the WAL as before.
    await this.checkpointer?.stop();
    this.db?.close();
    this.lock?.release();
    await modelsClosed;
    await this.shadowModels?.close();
    await this.broker?.stop();
    this.log.info({ ...this.stats(), ...(this.shadow ? { shadow: this.shadow.stats } : {}) }, 'stopped');
  }
}

function resolveFromCwd(path: string): string {
  return path === ':memory:' ? path : resolveFromPackage(path, { preferCwd: true });
}

