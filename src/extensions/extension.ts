/**
 * Extensions (issue 8), in the Zigbee2MQTT manner: each platform protocol is a
 * small class with `start()`/`stop()`, the topics it owns, an optional inbound
 * handler, and an optional output adapter that turns one analysed input into
 * the messages of its protocol. The composition root (agent.ts) builds the
 * list from config; a topic dispatcher routes each inbound message to the
 * extension that owns its topic. Adding a protocol is one new file plus one
 * config entry: nothing else changes.
 *
 * This file is the contract between the agent and the extensions. Constructors
 * do nothing; `start()` does the work.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { Analysis, ModelRef, TaskName } from '../model/types.js';
import type { ResultInput } from '../agent/messages.js';
import type { InboundMessage } from '../transport/mqtt-connection.js';
import type { PayloadFormat } from '../transport/input-parser.js';
import type { Logger } from '../util/logger.js';
import type { CheckedLabel, LabelInput } from '../data/label-check.js';

/** MQTT 5 properties an outbound message may carry (request/response, [MQTT-4.10]). */
export interface OutboundProperties {
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
  readonly contentType?: string;
  readonly userProperties?: Readonly<Record<string, string>>;
}

/** One message an extension wants published. */
export interface OutboundMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos?: 0 | 1;
  readonly retain?: boolean;
  readonly properties?: OutboundProperties;
}

/** The input as output adapters see it (what was asked, by whom, where). */
export interface AnalysedInputRequest extends ResultInput {
  /** Where the native result goes (the route's `resultTopic`, rendered). */
  readonly resultTopic?: string;
  /** MQTT 5 request/response: the caller's response topic and correlation data, kept with the input. */
  readonly response?: { readonly topic: string; readonly correlationData?: Buffer };
}

/** One input that got no analysis: rejected at intake, or the model failed on it. */
export interface FailedInput {
  readonly input: {
    readonly id: string | null;
    readonly siteId: string;
    readonly sessionId: string | null;
    readonly topic: string;
    readonly receivedAt: number;
    /** The text, or a printable excerpt of the payload when it could not be read. */
    readonly excerpt: string;
    readonly request: Readonly<Record<string, unknown>>;
    readonly response?: { readonly topic: string; readonly correlationData?: Buffer };
  };
  readonly stage: 'rejected' | 'inference';
  readonly code: string;
  readonly message: string;
}

/** One answered input, handed to every extension's output adapter. */
export interface AnalysedInput {
  readonly input: AnalysedInputRequest;
  readonly analysis: Analysis;
  readonly latencyMs: number;
  /** The unknown threshold in force for the model that answered. */
  readonly unknownThreshold: number;
}

/** The live models as extensions see them (read at call time: models can be swapped). */
export interface ModelsView {
  loadedModels(): readonly ModelRef[];
  /** Labels a task's model can produce (the intent labels become Home Assistant event types). */
  labels(task: TaskName): readonly string[];
}

export interface Extension {
  /** Stable name, used in config (`extensions.<name>`) and logs. */
  readonly name: string;
  /** Topic filters this extension subscribes to; the dispatcher routes matching messages to `handle()`. */
  topics(): readonly string[];
  /**
   * Whether the messages on `topics()` are utterance inputs (each answered once, like `input.topics`): with
   * `input.shareGroup` set they are subscribed as shared subscriptions, so one agent of the group gets each.
   * Absent or false: every agent of a group gets every message (bridge requests, Home Assistant's status).
   */
  readonly takesInputs?: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Inbound handler. Resolving lets the connection acknowledge the message, so
   * a slow request handler must not hold up utterance acknowledgements: the
   * dispatcher never awaits one extension on behalf of another.
   */
  handle?(message: InboundMessage): Promise<unknown>;
  /**
   * Output adapter: the messages of this protocol for one answered input. They
   * are written to the outbox in the same transaction as the result, so they
   * are published at least once, like the native result.
   */
  outputs?(result: AnalysedInput): readonly OutboundMessage[];
  /**
   * Error adapter: the messages of this protocol for an input that was rejected or
   * failed. Written to the outbox with the rejection (or the failed result).
   */
  failures?(failure: FailedInput): readonly OutboundMessage[];
}

/**
 * How an extension is registered: its name, its settings (a TypeBox object that
 * becomes `extensions.<name>` in the config schema; it must have `enabled`), and a
 * factory. The list of definitions lives in src/extensions/index.ts, one line each.
 */
export interface ExtensionDefinition<S extends TObject = TObject> {
  readonly name: string;
  readonly settings: S;
  create(context: ExtensionContext, settings: Static<S>): Extension;
  /**
   * Build the extension even when its `enabled` is false (it reads `enabled` itself), so that
   * switching it off can undo what an enabled run left on the broker (Home Assistant discovery).
   */
  readonly createWhenDisabled?: boolean;
}

/** What became of a submitted input, once stored: answered (or being answered), a repeat of a stored one, or rejected with its error messages. */
export type SubmitOutcome = { readonly status: 'accepted' | 'duplicate' } | { readonly status: 'rejected'; readonly code: string; readonly message: string };

/** How `submit()` treats an inbound message: like an `input.topics` entry. */
export interface SubmitRoute {
  readonly format: PayloadFormat;
  readonly tasks: readonly TaskName[];
  /** Template for the native result topic (`{baseTopic}`, `{siteId}`); default `{baseTopic}/{siteId}/result`. */
  readonly resultTopic?: string;
}

/** What the bridge may ask of the agent (Zigbee2MQTT's bridge requests). */
export interface AgentControl {
  /** Classifies on the live models; nothing is stored. */
  classify(text: string, tasks: readonly TaskName[], options?: { lang?: string; intentFilter?: readonly string[] }): Promise<{ analysis: Analysis; unknownThreshold: number }>;
  /** Loads the configured model directories again and swaps them in atomically; resolves with the new models. */
  reloadModels(): Promise<readonly ModelRef[]>;
  setLogLevel(level: string): void;
  logLevel(): string;
  /** Writes gold labels for a logged input; the previous labels go to the label history. */
  label(request: LabelRequest): LabelOutcome;
  /** Counters since start (`agent`) and figures from the input log (`log`, optionally since a time). */
  stats(options?: { sinceMs?: number }): Record<string, unknown>;
  /** The configuration with secrets removed. */
  config(): unknown;
}

export interface LabelRequest {
  /** The input: its id, or `#<seq>`. */
  readonly id: string;
  /** Checked against the input's text and the models' labels as `hubnlu label` checks it (data/label-check.ts). */
  readonly label: LabelInput;
  readonly by: string;
}

export type LabelOutcome =
  | {
      readonly ok: true;
      readonly seq: number;
      readonly previous: { intent: string | null; slots: unknown; sentiment: string | null; by: string | null; at: number | null };
      /** What was stored (slots with their offsets); warnings as the CLI prints them (a new intent or slot type). */
      readonly label: Omit<CheckedLabel, 'warnings'>;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly code: 'not_found' | 'ambiguous' | 'pending' | 'invalid'; readonly message: string };

/** Inputs and messages counted since start (the agent's stats, health and bridge `stats`). */
export interface ProcessingCounts {
  readonly received: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly processed: number;
  readonly failed: number;
  readonly published: number;
}

/** What `hubnlu/bridge/health` and the Home Assistant sensors report; one snapshot serves both. */
export interface HealthSnapshot {
  readonly uptimeSeconds: number;
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number };
  /**
   * `outboxUnpublished`: results waiting for the broker's PUBACK (the backlog); `outboxRefused`: results the broker
   * refused (a definite MQTT 5 reason code such as 0x87 Not authorized), set aside until `hubnlu outbox retry`.
   */
  readonly queues: { readonly inFlight: number; readonly outboxUnpublished: number; readonly outboxRefused: number };
  readonly counts: ProcessingCounts;
  /** Inputs accepted in the last 60 s. */
  readonly inputsPerMinute: number;
  /** Receipt-to-result latency over a recent window; null before the first result. */
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number } | null;
  readonly databaseBytes: number;
  readonly connected: boolean;
}

/** What the composition root hands every extension (STYLE: one context object, no globals). */
export interface ExtensionContext {
  readonly log: Logger;
  readonly baseTopic: string;
  readonly version: string;
  readonly models: ModelsView;
  /** Publish now, QoS 1 (bridge responses, discovery, state); not through the outbox. */
  publish(message: OutboundMessage): Promise<void>;
  health(): HealthSnapshot;
  /**
   * Feeds an inbound message into the utterance pipeline (parse, store, analyse,
   * every extension's outputs). Resolves once the input (or its rejection) is
   * committed: an extension that returns this from `handle()` keeps the
   * lossless-delivery contract of `input.topics`.
   */
  submit(message: InboundMessage, route: SubmitRoute): Promise<SubmitOutcome>;
  /** Agent commands for the bridge; other extensions need not use them. */
  readonly control: AgentControl;
  /** Why a caller's MQTT 5 Response Topic may not be answered on (a `$` topic, or one of the agent's own), or undefined when it may. */
  responseTopicProblem(topic: string): string | undefined;
  /** Whether the MQTT connection speaks MQTT 5 (response topics, correlation data, user properties). */
  readonly mqtt5: boolean;
  /** `mqtt.clientId`: identifies this agent to platforms (the Home Assistant device). */
  readonly clientId: string;
}
