/**
 * Chaos soak (the promise in README "Delivery: nothing lost"): the fault suite kills at fixed points; this kills at
 * random ones, many times, and counts every message at the end.
 *
 * One mosquitto (persistence on), one real `hubnlu run` process (the shipped node flags, bench/agent-settings.ts) on
 * its own database file, a publisher with a persistent session publishing QoS 1 inputs with unique ids at a steady
 * rate, and a subscriber with a persistent session (QoS 1) on the result and error topics. Every 1–6 s (seeded) one
 * cycle: usually SIGKILL the agent and start it again (one cycle in five of those kills it during start-up, before or
 * around its ready line, while it reads the backlog); one cycle in five instead stops the broker (SIGTERM: mosquitto
 * saves its state, nothing may be lost; with `--broker-sigkill`, SIGKILL: mosquitto may lose what it acknowledged but
 * had not saved, counted as the broker's losses, never hubnlu's) and starts it again on the same port and store.
 * Then it stops publishing, lets everything drain, stops the agent cleanly and checks, from the agent's SQLite file
 * (read-only) and the subscriber's tally:
 * - every input the broker acknowledged to the publisher has exactly one row (with --broker-sigkill a missing one is
 *   excused only if a broker instance that was SIGKILLed acknowledged it);
 * - every row is answered (status done or rejected), its outbox messages are all marked published, and its result or
 *   error reached the subscriber at least once (with --broker-sigkill a missing one is excused only if its message
 *   was marked published while a SIGKILLed instance ran); repeats are counted;
 * - the agent never exited except by our SIGKILLs and the final SIGTERM (code 0), and the broker holds nothing for it.
 * Publishes the broker never acknowledged are outside the promise: counted (stored or not), never a failure.
 *
 *   npm run build && timeout -s KILL 600 flock /tmp/hubnlu-bench.lock nice -n 10 node dist/bench/chaos.js \
 *     [--minutes 3] [--rate 300] [--seed 1] [--synchronous normal|full] [--broker-sigkill] [--out bench/results/chaos.json]
 *
 * Prints a table, writes bench/results/chaos.json, exits 1 (printing the offending ids) if an invariant breaks.
 * `--self-check` deletes one stored input's row before the reconciliation: that run must exit 1 and name it.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_ENV, AGENT_NODE_FLAGS } from './agent-settings.js';
import { startAgentProcess, REPO_ROOT, type AgentProcess } from '../test/helpers/cli.js';
import { agentEnv } from '../test/helpers/agent-process.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { heldForClient, LIGHT_BROKER_PERSISTENCE, UTTERANCES } from '../test/helpers/delivery.js';
import { mulberry32 } from '../src/data/random.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const MINUTES = Number(arg('minutes', '3'));
const RATE = Number(arg('rate', '300'));
const SEED = Number(arg('seed', '1'));
const SYNCHRONOUS = arg('synchronous', 'normal');
const BROKER_SIGKILL = process.argv.includes('--broker-sigkill');
const OUT = arg('out', join(REPO_ROOT, 'bench', 'results', 'chaos.json'));
const SELF_CHECK = process.argv.includes('--self-check');
const READY_TIMEOUT_MS = Number(arg('ready-timeout', '60000'));
if (!['normal', 'full', 'off', 'extra'].includes(SYNCHRONOUS)) throw new Error(`--synchronous ${SYNCHRONOUS}: use normal or full`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const t0 = Date.now();
const at = () => ((Date.now() - t0) / 1000).toFixed(1);
const say = (s: string) => process.stderr.write(`[chaos ${at()}s] ${s}\n`);

// The project's seeded PRNG, so a run can be repeated with its --seed.
const rand = mulberry32(SEED);
const between = (lo: number, hi: number) => lo + rand() * (hi - lo);

async function connectClient(url: string, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 200, connectTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('error', () => undefined); // the broker restarts on purpose
  return client;
}

// ---------------------------------------------------------------------------------------------------------------
// The scene

const broker = new Mosquitto(BROKER_SIGKILL ? {} : { extraConfig: LIGHT_BROKER_PERSISTENCE });
const dir = mkdtempSync(join(tmpdir(), 'hubnlu-chaos-'));
const dbPath = join(dir, 'hubnlu.db');
const clientId = `hubnlu-chaos-${process.pid}`;
/** `--log-level debug` also counts the agent's dropped duplicates by reason (redelivery / same id within the window). */
const agentSettings = { 'storage.synchronous': SYNCHRONOUS, 'mqtt.reconnectPeriodMs': 200, 'log.level': arg('log-level', 'info') };

/** One broker instance's life: [startedAt, endedAt) and how it ended. */
interface BrokerLife {
  startedAt: number;
  endedAt?: number;
  ended?: 'SIGTERM' | 'SIGKILL' | 'final';
}
const brokerLives: BrokerLife[] = [];

interface AgentLife {
  readonly n: number;
  readonly pid: number;
  readonly spawnedAt: number;
  readyMs?: number;
  /** How it ended: our SIGKILL, our final SIGTERM, or anything else (a failure). */
  exit?: { code: number | null; signal: string | null; ours: 'SIGKILL' | 'SIGTERM' | null; at: number };
  readonly proc: AgentProcess;
  /** The signal we sent it, if any. */
  sent?: 'SIGKILL' | 'SIGTERM';
}
const agents: AgentLife[] = [];
const unexpectedExits: Array<{ n: number; code: number | null; signal: string | null; lastLogs: unknown[] }> = [];

function spawnAgent(): AgentLife {
  const env = { ...agentEnv({ brokerUrl: broker.url, dbPath, clientId, settings: agentSettings }), ...AGENT_ENV };
  const proc = startAgentProcess(env, [], [...AGENT_NODE_FLAGS]);
  const life: AgentLife = { n: agents.length + 1, pid: proc.child.pid!, spawnedAt: Date.now(), proc };
  agents.push(life);
  proc.ready.then(() => (life.readyMs = Date.now() - life.spawnedAt)).catch(() => undefined);
  proc.exited.then(({ code, signal }) => {
    const ours = life.sent ?? null;
    life.exit = { code, signal, ours, at: Date.now() };
    const expected = (ours === 'SIGKILL' && signal === 'SIGKILL') || (ours === 'SIGTERM' && code === 0);
    if (!expected) {
      unexpectedExits.push({ n: life.n, code, signal, lastLogs: proc.logs.slice(-8) });
      say(`agent #${life.n} exited unexpectedly: code ${code} signal ${signal}`);
    }
  });
  return life;
}

async function killAgent(life: AgentLife): Promise<void> {
  if (life.exit) return;
  life.sent = 'SIGKILL';
  life.proc.child.kill('SIGKILL');
  await life.proc.exited;
}

async function waitReady(life: AgentLife, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (life.readyMs === undefined && !life.exit && Date.now() < deadline) await sleep(20);
  return life.readyMs !== undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Publisher: steady rate, unique ids, a bounded window of unacknowledged publishes (MQTT.js resends them after a
// reconnect with its persistent session).

const ackedAt = new Map<string, number>();
const publishErrors: Array<{ id: string; error: string }> = [];
let published = 0;
let pubInFlight = 0;
let publishing = true;
const PUB_WINDOW = 1000;

function payloadFor(i: number): { id: string; topic: string; payload: string } {
  const id = `chaos-${SEED}-${i}`;
  return { id, topic: `hubnlu/site${i % 5}/utterance`, payload: JSON.stringify({ id, text: UTTERANCES[i % UTTERANCES.length] }) };
}

async function runPublisher(client: MqttClient): Promise<void> {
  let due = 0;
  let last = Date.now();
  while (publishing) {
    const now = Date.now();
    due = Math.min(due + ((now - last) / 1000) * RATE, RATE); // never more than a second of debt
    last = now;
    while (due >= 1 && pubInFlight < PUB_WINDOW) {
      due -= 1;
      const item = payloadFor(published++);
      pubInFlight++;
      client.publish(item.topic, item.payload, { qos: 1 }, (err) => {
        pubInFlight--;
        if (err) publishErrors.push({ id: item.id, error: err.message });
        else ackedAt.set(item.id, Date.now());
      });
    }
    await sleep(10);
  }
}

// Subscriber: every result and error message by the id it carries.
const results = new Map<string, number>();
const errors = new Map<string, number>();
let resultMessages = 0;
let errorMessages = 0;
let otherMessages = 0;

// ---------------------------------------------------------------------------------------------------------------

interface DbView {
  readonly rows: Map<string, number>;
  readonly status: Map<string, string>;
  /** id → published_at of each of its outbox rows (null: not yet). */
  readonly outbox: Map<string, Array<number | null>>;
  readonly total: number;
  readonly unpublished: number;
}

function readDb(): DbView {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = new Map<string, number>();
    const status = new Map<string, string>();
    let total = 0;
    for (const r of db.prepare('SELECT id, status FROM inputs').iterate() as Iterable<{ id: string; status: string }>) {
      rows.set(r.id, (rows.get(r.id) ?? 0) + 1);
      status.set(r.id, r.status);
      total++;
    }
    const outbox = new Map<string, Array<number | null>>();
    for (const r of db.prepare('SELECT i.id AS id, o.published_at AS p FROM outbox o JOIN inputs i ON o.input_seq = i.seq').iterate() as Iterable<{ id: string; p: number | null }>) {
      const list = outbox.get(r.id) ?? [];
      list.push(r.p);
      outbox.set(r.id, list);
    }
    const { n } = db.prepare('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL').get() as { n: number };
    return { rows, status, outbox, total, unpublished: n };
  } finally {
    db.close();
  }
}

function countRows(): number {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return (db.prepare('SELECT count(*) AS n FROM inputs').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** Was time `t` inside the life of a broker instance that ended by SIGKILL? */
function inKilledBroker(t: number | undefined | null): boolean {
  if (t === undefined || t === null) return false;
  return brokerLives.some((l) => l.ended === 'SIGKILL' && t >= l.startedAt && t <= (l.endedAt ?? Infinity));
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main(): Promise<number> {
  const load = { start: loadavg().map((x) => +x.toFixed(2)) };
  await broker.start();
  brokerLives.push({ startedAt: Date.now() });
  say(`mosquitto on ${broker.url}; db ${dbPath}; synchronous ${SYNCHRONOUS}; rate ${RATE}/s; ${MINUTES} min; seed ${SEED}; broker stop by ${BROKER_SIGKILL ? 'SIGKILL' : 'SIGTERM'}`);

  const sub = await connectClient(broker.url, `chaos-sub-${process.pid}`);
  sub.on('message', (topic, payload) => {
    let id: string;
    try {
      id = String((JSON.parse(payload.toString('utf8')) as { id?: unknown }).id);
    } catch {
      otherMessages++;
      return;
    }
    if (topic.endsWith('/result')) {
      resultMessages++;
      results.set(id, (results.get(id) ?? 0) + 1);
    } else if (topic.endsWith('/error')) {
      errorMessages++;
      errors.set(id, (errors.get(id) ?? 0) + 1);
    } else otherMessages++;
  });
  await sub.subscribeAsync(['hubnlu/+/result', 'hubnlu/+/error'], { qos: 1 });

  let agent = spawnAgent();
  if (!(await waitReady(agent, READY_TIMEOUT_MS))) throw new Error(`the first agent was not ready: ${JSON.stringify(agent.proc.logs.slice(-5))}`);
  const pub = await connectClient(broker.url, `chaos-pub-${process.pid}`);
  const pubDone = runPublisher(pub);

  const cycles: Array<Record<string, unknown>> = [];
  const readyTimes: number[] = [];
  const brokerRestartMs: number[] = [];
  const readyTimeouts: number[] = [];
  let agentKills = 0;
  let startupKills = 0;
  let brokerStops = 0;
  const endAt = t0 + MINUTES * 60_000;
  while (Date.now() < endAt && unexpectedExits.length === 0) {
    await sleep(between(1000, 6000));
    if (Date.now() >= endAt) break;
    if (rand() < 0.2) {
      // Broker cycle: stop it while the agent runs, then start it again on the same port and store.
      const how: 'SIGKILL' | 'SIGTERM' = BROKER_SIGKILL ? 'SIGKILL' : 'SIGTERM';
      const life = brokerLives.at(-1)!;
      await broker.kill(how);
      life.endedAt = Date.now();
      life.ended = how;
      const down = between(200, 2000);
      await sleep(down);
      const s = Date.now();
      await broker.start();
      brokerLives.push({ startedAt: Date.now() });
      brokerRestartMs.push(Date.now() - s);
      brokerStops++;
      cycles.push({ at: at(), kind: `broker ${how}`, downMs: Math.round(down), rows: countRows() });
      say(`broker ${how}, down ${Math.round(down)} ms, back in ${Date.now() - s} ms; rows ${countRows()}, acked ${ackedAt.size}`);
      continue;
    }
    // Agent cycle: SIGKILL at this random moment, start again; one kill in five lands during the next start-up.
    await killAgent(agent);
    agentKills++;
    await sleep(between(0, 500));
    agent = spawnAgent();
    const duringStartup = rand() < 0.2;
    if (duringStartup) {
      await sleep(between(100, 2500)); // node start, model load, database open, backlog: somewhere in there
      const wasReady = agent.readyMs !== undefined;
      await killAgent(agent);
      agentKills++;
      startupKills++;
      cycles.push({ at: at(), kind: 'agent SIGKILL at start-up', afterReady: wasReady });
      agent = spawnAgent();
    }
    const ok = await waitReady(agent, READY_TIMEOUT_MS);
    if (ok) readyTimes.push(agent.readyMs!);
    else if (!agent.exit) readyTimeouts.push(agent.n);
    cycles.push({ at: at(), kind: 'agent SIGKILL', readyMs: agent.readyMs, rows: countRows() });
    say(`agent SIGKILL #${agentKills}${duringStartup ? ' (+ one at start-up)' : ''}; restarted ready in ${agent.readyMs ?? 'NOT READY'} ms; rows ${countRows()}, acked ${ackedAt.size}, results ${results.size}`);
  }

  // Drain: stop publishing, wait for the broker's acknowledgements, then for every acknowledged input to be answered.
  publishing = false;
  await pubDone;
  const drainStart = Date.now();
  while (pubInFlight > 0 && Date.now() - drainStart < 60_000) await sleep(50);
  say(`publishing stopped: ${published} sent, ${ackedAt.size} acknowledged, ${pubInFlight} unacknowledged`);
  let lastSeen = -1;
  let quietSince = Date.now();
  for (;;) {
    const answered = [...ackedAt.keys()].every((id) => results.has(id) || errors.has(id));
    if (answered) break;
    const seen = resultMessages + errorMessages + countRows();
    if (seen !== lastSeen) {
      lastSeen = seen;
      quietSince = Date.now();
    }
    if (Date.now() - quietSince > 15_000 || Date.now() - drainStart > 180_000 || agent.exit) break;
    await sleep(250);
  }
  // Let the outbox record the broker's last acknowledgements, and late repeats arrive.
  for (let i = 0; i < 40; i++) {
    try {
      if (readDb().unpublished === 0) break;
    } catch {
      /* busy: try again */
    }
    await sleep(250);
  }
  await sleep(1000);
  const drainMs = Date.now() - drainStart;
  agent.sent = 'SIGTERM';
  agent.proc.child.kill('SIGTERM');
  const killer = setTimeout(() => agent.proc.child.kill('SIGKILL'), 15_000);
  const finalExit = await agent.proc.exited;
  clearTimeout(killer);
  await sleep(50); // the exit handler above has run
  const held = await heldForClient(broker.url, clientId);
  await pub.endAsync();
  await sub.endAsync();
  brokerLives.at(-1)!.ended = 'final';
  brokerLives.at(-1)!.endedAt = Date.now();
  await broker.stop();
  const loadEnd = loadavg().map((x) => +x.toFixed(2));

  // --self-check: the checker must be able to fail. Delete one acknowledged input's row (the agent has stopped) and
  // expect exit 1 naming it.
  let sabotaged: string | undefined;
  if (SELF_CHECK) {
    const db = new Database(dbPath);
    db.pragma('foreign_keys = OFF'); // its outbox rows stay: only the input row goes
    const victim = db.prepare('SELECT id FROM inputs ORDER BY random() LIMIT 1').get() as { id: string } | undefined;
    if (victim) db.prepare('DELETE FROM inputs WHERE id = ?').run(victim.id);
    db.close();
    sabotaged = victim?.id;
    say(`--self-check: deleted the row of ${sabotaged}; this run must fail naming it`);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Reconciliation
  const view = readDb();
  const sentIds = Array.from({ length: published }, (_, i) => payloadFor(i).id);
  const acked = sentIds.filter((id) => ackedAt.has(id));
  const missingRowsAll = acked.filter((id) => !view.rows.has(id));
  const brokerLostInputs = missingRowsAll.filter((id) => inKilledBroker(ackedAt.get(id)));
  const missingRows = missingRowsAll.filter((id) => !brokerLostInputs.includes(id));
  const doubleRows = [...view.rows].filter(([, n]) => n > 1).map(([id]) => id);
  const foreignRows = [...view.rows.keys()].filter((id) => !id.startsWith(`chaos-${SEED}-`));
  const unanswered = [...view.status].filter(([, s]) => s !== 'done' && s !== 'rejected').map(([id, s]) => `${id}:${s}`);
  const unpublishedIds = [...view.outbox].filter(([, ps]) => ps.some((p) => p === null)).map(([id]) => id);
  const noMessage = [...view.rows.keys()].filter((id) => !results.has(id) && !errors.has(id));
  const brokerLostResults = noMessage.filter((id) => (view.outbox.get(id) ?? []).some((p) => inKilledBroker(p)));
  const missingMessages = noMessage.filter((id) => !brokerLostResults.includes(id));
  const unackedStored = sentIds.filter((id) => !ackedAt.has(id) && view.rows.has(id)).length;
  const repeatedResults = resultMessages - results.size;
  const repeatedErrors = errorMessages - errors.size;
  const failedAgentReady = readyTimeouts.length;

  const failures: Array<[string, string[]]> = [];
  if (missingRows.length) failures.push(['acknowledged inputs with no row (hubnlu lost them)', missingRows]);
  if (doubleRows.length) failures.push(['inputs with more than one row', doubleRows]);
  if (foreignRows.length) failures.push(['rows with ids never published', foreignRows]);
  if (unanswered.length) failures.push(['rows not answered (status)', unanswered]);
  if (unpublishedIds.length || view.unpublished) failures.push([`outbox rows never marked published (${view.unpublished})`, unpublishedIds]);
  if (missingMessages.length) failures.push(['stored inputs whose result/error never reached the subscriber', missingMessages]);
  if (unexpectedExits.length) failures.push(['agent exits that were not ours', unexpectedExits.map((e) => `#${e.n} code=${e.code} signal=${e.signal} ${JSON.stringify(e.lastLogs)}`)]);
  if (finalExit.code !== 0) failures.push(['the final SIGTERM did not end the agent with code 0', [`${finalExit.code ?? finalExit.signal}`]]);
  if (held.held) failures.push(['the broker still held inputs for the agent', [String(held.held)]]);
  if (failedAgentReady) failures.push([`agents not ready within ${READY_TIMEOUT_MS} ms`, readyTimeouts.map(String)]);
  // Not a failure of the promise, which starts at the broker's PUBACK: MQTT.js fails (callback error "Connection
  // closed") the publishes it queued while resending its store after a reconnect when that connection drops too (two
  // broker stops in quick succession). They were never acknowledged; a real publisher must resend them. Counted.

  const errorLogs = new Map<string, number>();
  for (const a of agents) for (const l of a.proc.logs) if (typeof l.level === 'number' && l.level >= 50) errorLogs.set(String(l.msg), (errorLogs.get(String(l.msg)) ?? 0) + 1);

  const duplicateReasons: Record<string, number> = {};
  for (const a of agents)
    for (const l of a.proc.logs)
      if (typeof l.msg === 'string' && l.msg.startsWith('duplicate input ignored')) duplicateReasons[l.msg] = (duplicateReasons[l.msg] ?? 0) + 1;

  const report = {
    date: new Date().toISOString(),
    command: `node dist/bench/chaos.js ${process.argv.slice(2).join(' ')}`.trim(),
    settings: { minutes: MINUTES, rate: RATE, seed: SEED, synchronous: SYNCHRONOUS, brokerStop: BROKER_SIGKILL ? 'SIGKILL' : 'SIGTERM', agentNodeFlags: AGENT_NODE_FLAGS },
    loadavg: { start: load.start, end: loadEnd },
    seconds: Math.round((Date.now() - t0) / 1000),
    drainMs,
    agentStarts: agents.length,
    agentKills,
    startupKills,
    brokerStops,
    agentReadyMs: { n: readyTimes.length, p50: pct(readyTimes, 50), p90: pct(readyTimes, 90), max: Math.max(0, ...readyTimes) },
    brokerRestartMs: { n: brokerRestartMs.length, max: Math.max(0, ...brokerRestartMs) },
    published,
    brokerAcked: acked.length,
    unacknowledgedAtEnd: published - acked.length,
    unacknowledgedButStored: unackedStored,
    publishesFailedByClient: publishErrors.length,
    publishFailures: Object.fromEntries([...new Set(publishErrors.map((e) => e.error))].map((m) => [m, publishErrors.filter((e) => e.error === m).length])),
    rows: view.total,
    distinctRowIds: view.rows.size,
    missingRows: missingRows.length,
    inputsLostByBroker: brokerLostInputs.length,
    doubleRows: doubleRows.length,
    unansweredRows: unanswered.length,
    outboxUnpublished: view.unpublished,
    resultMessages,
    distinctResults: results.size,
    repeatedResults,
    errorMessages,
    repeatedErrors,
    otherMessages,
    resultsLostByBroker: brokerLostResults.length,
    missingMessages: missingMessages.length,
    heldByBrokerAfter: held.held,
    finalExit,
    unexpectedExits: unexpectedExits.length,
    agentErrorLogLines: Object.fromEntries(errorLogs),
    dedupedByAgent: agents.reduce((s, a) => s + Number(a.proc.logs.find((l) => l.msg === 'stopped')?.duplicates ?? 0), 0),
    duplicateReasons,
    selfCheckDeleted: sabotaged,
    passed: failures.length === 0,
    failures: failures.map(([what, ids]) => ({ what, count: ids.length, ids: ids.slice(0, 50) })),
    brokerLost: { inputs: brokerLostInputs.slice(0, 50), results: brokerLostResults.slice(0, 50) },
    cycles,
  };
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');

  const table: Array<[string, string | number]> = [
    ['synchronous / broker stop', `${SYNCHRONOUS} / ${report.settings.brokerStop}`],
    ['seconds (drain ms)', `${report.seconds} (${drainMs})`],
    ['load average start → end', `${load.start.join(' ')} → ${loadEnd.join(' ')}`],
    ['agent kills (at start-up) / starts', `${agentKills} (${startupKills}) / ${agents.length}`],
    ['agent ready ms p50 / p90 / max', `${report.agentReadyMs.p50} / ${report.agentReadyMs.p90} / ${report.agentReadyMs.max}`],
    ['broker stops (restart ms max)', `${brokerStops} (${report.brokerRestartMs.max})`],
    ['published / broker-acknowledged / failed by MQTT.js', `${published} / ${acked.length} / ${publishErrors.length}`],
    ['rows (distinct ids)', `${view.total} (${view.rows.size})`],
    ['missing rows (hubnlu) / lost by broker', `${missingRows.length} / ${brokerLostInputs.length}`],
    ['double rows', doubleRows.length],
    ['unanswered rows / outbox unpublished', `${unanswered.length} / ${view.unpublished}`],
    ['result msgs / distinct / repeated', `${resultMessages} / ${results.size} / ${repeatedResults}`],
    ['error msgs (repeated)', `${errorMessages} (${repeatedErrors})`],
    ['stored, no message: hubnlu / lost by broker', `${missingMessages.length} / ${brokerLostResults.length}`],
    ['unexpected agent exits / final exit', `${unexpectedExits.length} / ${finalExit.code ?? finalExit.signal}`],
    ['held by broker after', held.held],
    ['PASSED', failures.length === 0 ? 'yes' : 'NO'],
  ];
  const w = Math.max(...table.map(([k]) => k.length));
  console.log(table.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  for (const [what, ids] of failures) console.log(`FAIL ${what}: ${ids.length}: ${ids.slice(0, 20).join(', ')}`);
  return failures.length === 0 ? 0 : 1;
}

main()
  .then((code) => {
    for (const a of agents) if (!a.exit) a.proc.child.kill('SIGKILL');
    if (code === 0 && !process.argv.includes('--keep')) {
      rmSync(dir, { recursive: true, force: true });
      rmSync(broker.dir, { recursive: true, force: true });
    } else say(`kept the agent's database ${dbPath} and the broker's store ${broker.dir}`);
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    console.error(err);
    for (const a of agents) if (!a.exit) a.proc.child.kill('SIGKILL');
    await broker.kill('SIGKILL').catch(() => undefined);
    say(`kept the agent's database ${dbPath} and the broker's store ${broker.dir}`);
    process.exit(2);
  });
