/**
 * Counting every message for the fault tests: a publisher that records which
 * inputs the broker acknowledged (and when), a tally of the agent's result and
 * error messages by id, the database's view of the same ids, and the one
 * accounting line each test prints.
 */
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto, type MosquittoOptions } from './mosquitto.js';
import { sleep } from './net.js';

/**
 * mosquitto.conf lines for tests where the broker is not the thing that fails: save its state every minute instead
 * of after every change (the Mosquitto helper's default, which the broker-kill test needs and which costs the broker
 * most of its throughput with thousands of queued messages).
 */
export const LIGHT_BROKER_PERSISTENCE = ['autosave_on_changes false', 'autosave_interval 60'];

export interface Outgoing {
  /** The payload's `id` (or, for payloads without one, the test's own key). */
  readonly key: string;
  readonly topic: string;
  readonly payload: string | Buffer;
}

export interface ClientOptions {
  readonly clientId?: string;
  /** Persistent MQTT 5 session (clean: false, one hour expiry): queued messages survive our disconnects. */
  readonly persistent?: boolean;
}

async function connectClient(url: string, opts: ClientOptions): Promise<MqttClient> {
  const persistent = opts.persistent ?? false;
  const client = mqtt.connect(url, {
    clientId: opts.clientId ?? `fault-${Math.random().toString(16).slice(2)}`,
    protocolVersion: 5,
    clean: !persistent,
    properties: persistent ? { sessionExpiryInterval: 3600 } : undefined,
    reconnectPeriod: 200,
    connectTimeout: 5000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('error', () => undefined); // reconnects are expected in these tests
  return client;
}

/**
 * Publishes QoS 1 inputs with a bounded window of unacknowledged publishes and
 * records the time of each PUBACK. With a persistent session MQTT.js keeps
 * unacknowledged publishes and resends them after a reconnect, so a broker
 * restart delays acknowledgements but does not drop them.
 */
export class Publisher {
  readonly ackedAt = new Map<string, number>();
  readonly failed: Array<{ key: string; error: string }> = [];
  sent = 0;
  /** Connections lost (a broker restart, or the broker refusing a packet). */
  disconnects = 0;

  private constructor(readonly client: MqttClient) {
    client.on('close', () => this.disconnects++);
  }

  static async connect(url: string, opts: ClientOptions = {}): Promise<Publisher> {
    return new Publisher(await connectClient(url, opts));
  }

  /** Publishes every item; resolves when each has been acknowledged or has failed. `ratePerSecond` paces the stream. */
  publishAll(items: readonly Outgoing[], opts: { window?: number; ratePerSecond?: number } = {}): Promise<void> {
    const window = opts.window ?? 200;
    const started = Date.now();
    let next = 0;
    let inFlight = 0;
    let timer: NodeJS.Timeout | undefined;
    return new Promise((resolve) => {
      const pump = (): void => {
        timer = undefined;
        while (inFlight < window && next < items.length) {
          if (opts.ratePerSecond && next >= ((Date.now() - started) / 1000) * opts.ratePerSecond) {
            timer ??= setTimeout(pump, 5);
            return;
          }
          const item = items[next++];
          inFlight++;
          this.sent++;
          this.client.publish(item.topic, item.payload, { qos: 1 }, (err) => {
            inFlight--;
            if (err) this.failed.push({ key: item.key, error: err.message });
            else this.ackedAt.set(item.key, Date.now());
            pump();
          });
        }
        if (next >= items.length && inFlight === 0) resolve();
      };
      pump();
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Counts the agent's messages by the `id` they carry. */
export class Tally {
  /** id → number of result messages seen for it. */
  readonly results = new Map<string, number>();
  /** id → number of error messages seen for it (rejections without a payload id carry the agent's UUID). */
  readonly errors = new Map<string, number>();
  readonly errorCodes = new Map<string, number>();
  readonly topics = new Map<string, number>();
  resultMessages = 0;
  errorMessages = 0;
  /** Error messages with `id: null`: rejections of payloads that carried no usable id. */
  anonymousErrors = 0;
  otherMessages = 0;
  unparsable = 0;

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.count(topic, payload));
  }

  static async connect(url: string, filters: string[], opts: ClientOptions = {}): Promise<Tally> {
    const client = await connectClient(url, opts);
    const tally = new Tally(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return tally;
  }

  private count(topic: string, payload: Buffer): void {
    this.topics.set(topic, (this.topics.get(topic) ?? 0) + 1);
    const kind = topic.endsWith('/result') ? 'result' : topic.endsWith('/error') ? 'error' : 'other';
    if (kind === 'other') {
      this.otherMessages++;
      return;
    }
    let body: { id?: unknown; code?: unknown };
    try {
      body = JSON.parse(payload.toString('utf8')) as typeof body;
    } catch {
      this.unparsable++;
      return;
    }
    const id = typeof body.id === 'string' ? body.id : body.id === null || body.id === undefined ? undefined : String(body.id);
    if (kind === 'result') {
      this.resultMessages++;
      this.results.set(String(id), (this.results.get(String(id)) ?? 0) + 1);
    } else {
      this.errorMessages++;
      if (id === undefined) this.anonymousErrors++;
      else this.errors.set(id, (this.errors.get(id) ?? 0) + 1);
      const code = String(body.code);
      this.errorCodes.set(code, (this.errorCodes.get(code) ?? 0) + 1);
    }
  }

  /** Result messages beyond the first for their id. */
  get resultDuplicates(): number {
    return this.resultMessages - this.results.size;
  }

  /** Error messages beyond the first for their id (those without an id cannot be told apart and are not counted). */
  get errorDuplicates(): number {
    return this.errorMessages - this.anonymousErrors - this.errors.size;
  }

  /**
   * Waits until `check()` holds, or until nothing new has happened for `quietMs`, or `timeoutMs`. Returns check().
   * `progress` adds another sign of life (e.g. the agent's row count): while inputs are still being stored, results
   * may not flow (their PUBACKs queue behind the inputs on the agent's one connection), and that is not quiet.
   */
  async settle(check: () => boolean, opts: { timeoutMs: number; quietMs?: number; progress?: () => number }): Promise<boolean> {
    const deadline = Date.now() + opts.timeoutMs;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      if (check()) return true;
      const seen = this.resultMessages + this.errorMessages + (opts.progress?.() ?? 0);
      if (seen !== last) {
        last = seen;
        lastChange = Date.now();
      }
      if (Date.now() > deadline) return check();
      if (opts.quietMs !== undefined && Date.now() - lastChange > opts.quietMs) return check();
      await sleep(opts.progress ? 250 : 50);
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** What the database holds for a set of ids. */
export interface RowView {
  /** id → number of rows. */
  readonly rowsById: Map<string, number>;
  readonly statusById: Map<string, string>;
  readonly byStatus: Record<string, number>;
  readonly total: number;
  /** Outbox rows not yet marked published. */
  readonly unpublished: number;
}

export function readRows(dbPath: string, where = '1 = 1'): RowView {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db.prepare(`SELECT id, status, count(*) AS n FROM inputs WHERE ${where} GROUP BY id, status`).all() as Array<{ id: string; status: string; n: number }>;
    const rowsById = new Map<string, number>();
    const statusById = new Map<string, string>();
    const byStatus: Record<string, number> = {};
    let total = 0;
    for (const r of rows) {
      rowsById.set(r.id, (rowsById.get(r.id) ?? 0) + r.n);
      statusById.set(r.id, r.status);
      byStatus[r.status] = (byStatus[r.status] ?? 0) + r.n;
      total += r.n;
    }
    const { unpublished } = db.prepare(`SELECT count(*) AS unpublished FROM outbox WHERE published_at IS NULL`).get() as { unpublished: number };
    return { rowsById, statusById, byStatus, total, unpublished };
  } finally {
    db.close();
  }
}

/** Number of input rows (any status); reads through WAL while another process writes or holds the write lock. */
export function countRows(dbPath: string, where = '1 = 1'): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.prepare(`SELECT count(*) AS n FROM inputs WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The outgoing messages the agent queued for these input ids: id → published_at (ms) or null. */
export function outboxFor(dbPath: string, ids: readonly string[]): Map<string, Array<number | null>> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const stmt = db.prepare(`SELECT o.published_at AS publishedAt FROM outbox o JOIN inputs i ON o.input_seq = i.seq WHERE i.id = ?`);
    return new Map(ids.map((id) => [id, (stmt.all(id) as Array<{ publishedAt: number | null }>).map((r) => r.publishedAt)]));
  } finally {
    db.close();
  }
}

/**
 * Connects as the agent (same client id, persistent session) after it has
 * stopped and counts what the broker still holds for it: inputs the agent never
 * acknowledged. Zero means every input the broker delivered was acknowledged.
 */
export async function heldForClient(url: string, clientId: string, listenMs = 1500): Promise<{ sessionPresent: boolean; held: number }> {
  let held = 0;
  const client = mqtt.connect(url, { clientId, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 60 }, reconnectPeriod: 0 });
  client.on('message', () => held++);
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    client.once('connect', (packet) => resolve({ sessionPresent: packet.sessionPresent }));
    client.once('error', reject);
  });
  await sleep(listenMs);
  await client.endAsync();
  return { sessionPresent: connack.sessionPresent, held };
}

/** Prints one accounting line (stdout and a test diagnostic) and returns it. */
export function account(t: TestContext, name: string, fields: Record<string, unknown>): string {
  const line = `[fault:${name}] ` + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
  console.log(line);
  t.diagnostic(line);
  return line;
}

/** Ids from `expected` missing from `seen`. */
export function missingFrom(expected: Iterable<string>, seen: { has(id: string): boolean }): string[] {
  const out: string[] = [];
  for (const id of expected) if (!seen.has(id)) out.push(id);
  return out;
}

/** Utterances for the streams: short, realistic, each a valid input. */
export const UTTERANCES = [
  'turn off the kitchen lights',
  'set the heating to twenty one degrees',
  'what is the weather like tomorrow',
  'wake me up at seven am',
  'play some jazz in the living room',
  'lock the front door',
  'i hate this song',
  'thank you so much that was great',
  'dim the lights in the bedroom to 30 percent',
  'is it going to rain this afternoon',
];

/** `n` JSON inputs with unique ids `<prefix>-<i>` spread over five sites. */
export function utteranceStream(prefix: string, n: number, first = 0): Outgoing[] {
  return Array.from({ length: n }, (_, k) => {
    const i = first + k;
    const key = `${prefix}-${i}`;
    return { key, topic: `hubnlu/site${i % 5}/utterance`, payload: JSON.stringify({ id: key, text: UTTERANCES[i % UTTERANCES.length] }) };
  });
}

export interface FaultScene {
  readonly broker: Mosquitto;
  /** The agent's data directory (removed afterwards). */
  readonly dir: string;
  readonly dbPath: string;
  readonly clientId: string;
  /** Closed in reverse order after the test, before the broker stops. */
  readonly closers: Array<() => Promise<unknown>>;
}

/**
 * The common stage of a fault test: a started mosquitto, a fresh data directory,
 * a client id, and clean-up registered on `t` (closers in reverse, broker, files).
 * `dataDir` replaces the temp directory (the disk-full test's tiny filesystem);
 * `cleanup` then releases it.
 */
export async function faultScene(
  t: TestContext,
  name: string,
  opts: { broker?: MosquittoOptions; dataDir?: string; cleanup?: () => void } = {},
): Promise<FaultScene> {
  const broker = new Mosquitto(opts.broker);
  await broker.start();
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `hubnlu-fault-${name}-`));
  const closers: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await broker.stop();
    if (opts.dataDir) opts.cleanup?.();
    else rmSync(dir, { recursive: true, force: true });
    rmSync(broker.dir, { recursive: true, force: true });
  });
  return { broker, dir, dbPath: join(dir, 'hubnlu.db'), clientId: `hubnlu-${name}-${process.pid}`, closers };
}

export interface Reconciliation {
  readonly view: RowView;
  /** Inputs with no row in the database. */
  readonly missingRows: string[];
  /** Inputs with more than one row. */
  readonly doubleRows: string[];
  /** Inputs that never got a result message (less any `excused`). */
  readonly missingResults: string[];
  /** The accounting every fault test prints: sent, acked, rows, results, duplicates, missing. */
  readonly counts: Record<string, unknown>;
}

/** Compares what was sent with the database and with the result messages seen. */
export function reconcile(ids: readonly string[], dbPath: string, tally: Tally, publisher: Publisher, excused: readonly string[] = []): Reconciliation {
  const view = readRows(dbPath);
  const missingRows = missingFrom(ids, view.rowsById);
  const doubleRows = ids.filter((id) => (view.rowsById.get(id) ?? 0) > 1);
  const missingResults = missingFrom(ids, tally.results).filter((id) => !excused.includes(id));
  return {
    view,
    missingRows,
    doubleRows,
    missingResults,
    counts: {
      sent: ids.length,
      brokerAcked: publisher.ackedAt.size,
      rows: view.total,
      rowsByStatus: view.byStatus,
      results: tally.resultMessages,
      distinctResults: tally.results.size,
      duplicates: tally.resultDuplicates,
      missing: missingResults.length,
      missingRows: missingRows.length,
      duplicateRows: doubleRows.length,
    },
  };
}
