/**
 * Long-running soak (README, Benchmarks: Long-running): does ONE agent under steady load for a long time leak memory,
 * file descriptors, threads or WAL? bench/e2e.ts and bench/memory.ts measure fresh agents, bench/chaos.ts kills its
 * agent every few seconds; this one lets a single `hubnlu run` process work for `--minutes` and watches it.
 *
 * - one mosquitto (test/helpers/mosquitto.ts) and ONE real `hubnlu run` process with the shipped node flags and
 *   environment (bench/agent-settings.ts), `storage.retentionDays: 1` and maintenance every `--maintenance-s` seconds
 *   (`storage.maintenanceCron` with its seconds field). The agent's own rows are younger than a day, so that retention
 *   has something to delete during the run the bench inserts `--aged` answered rows (with a published outbox row each)
 *   received two days ago into the agent's database every `--maintenance-s` seconds, through its own SQLite
 *   connection (WAL mode: a second writer, as `hubnlu label` is), and counts what the agent's maintenance deleted;
 * - a publisher at a steady `--rate` (default 200 QoS 1 msg/s): mostly valid utterances (test/helpers/delivery.ts),
 *   some in German, French, Spanish and Chinese, some plain-text payloads (no id: the agent assigns one), some
 *   rejected payloads (empty text, control characters, a wrong field type, and broken JSON without an id); one input
 *   in 100 from a site id never seen before (a per-site structure would grow with them: the key space is the
 *   publisher's), and bridge requests (`health_check` every `--health-s` s, `stats` every 3rd of those, `classify`);
 * - a subscriber (QoS 1) counting results, errors and bridge responses by id/transaction;
 * - every `--sample` seconds: VmRSS, RssAnon, RssFile (/proc/<pid>/status), Anonymous (/proc/<pid>/smaps_rollup),
 *   open fds, threads, CPU time, the database file and WAL sizes, and V8 heap used (the latest `health_check` answer's
 *   `memory.heapUsedBytes`).
 *
 * After `--warmup` seconds (default: the larger of 60 s and a tenth of the run) the samples are split in two halves and
 * each gets a least-squares slope (MB per hour, fds per hour, ...); a leak shows as a positive slope in both halves,
 * a warm-up as a first-half slope that the second half does not repeat.
 *
 *   npm run build && flock /tmp/hubnlu-bench.lock nice -n 10 node dist/bench/soak.js [--minutes 10] [--rate 200]
 *     [--sample 10] [--warmup 60] [--maintenance-s 30] [--aged 2000] [--health-s 5] [--snapshots] [--out bench/results/soak.json]
 *
 * `--snapshots`: the agent also gets `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<tmp>` and is sent SIGUSR2 at a
 * third and at the end of the run (writes two .heapsnapshot files to compare in Chrome DevTools; they pause the agent
 * for seconds and disturb the samples: use a separate run).
 *
 * Prints a table, writes bench/results/soak.json, exits 1 unless every input with an id was answered exactly once,
 * the id-less inputs and the bridge requests were answered once each (by count), and the agent stopped with code 0.
 */
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_ENV, AGENT_NODE_FLAGS } from './agent-settings.js';
import { startAgentProcess, REPO_ROOT } from '../test/helpers/cli.js';
import { agentEnv } from '../test/helpers/agent-process.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { UTTERANCES } from '../test/helpers/delivery.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}
const MINUTES = arg('minutes', 10);
const RATE = arg('rate', 200);
const SAMPLE_S = arg('sample', 10);
const WARMUP_S = arg('warmup', Math.max(60, MINUTES * 6));
const MAINTENANCE_S = arg('maintenance-s', 30);
const AGED = arg('aged', 2000);
const HEALTH_S = arg('health-s', 5);
const SNAPSHOTS = process.argv.includes('--snapshots');
const OUT = process.argv.indexOf('--out') >= 0 ? process.argv[process.argv.indexOf('--out') + 1] : join(REPO_ROOT, 'bench', 'results', 'soak.json');
if (MAINTENANCE_S < 1 || MAINTENANCE_S > 59 || 60 % MAINTENANCE_S !== 0) throw new Error('--maintenance-s: a divisor of 60 (e.g. 10, 15, 20, 30)');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const t0 = Date.now();
const at = () => ((Date.now() - t0) / 1000).toFixed(0);
const say = (s: string) => process.stderr.write(`[soak ${at()}s] ${s}\n`);

const OTHER_LANGUAGES = [
  'mach das licht in der küche aus',
  'stell die heizung auf einundzwanzig grad',
  'allume la lumière du salon',
  'quel temps fera-t-il demain',
  'apaga las luces del dormitorio',
  '把客厅的灯关掉',
];

/** What message `i` is: most are valid utterances; the mix repeats every 40 messages. */
type Kind = 'valid' | 'other-language' | 'plain-text' | 'rejected' | 'rejected-no-id';
function messageFor(i: number): { kind: Kind; id?: string; topic: string; payload: string } {
  const id = `soak-${i}`;
  const site = i % 100 === 7 ? `soak-new-site-${i}` : `site${i % 5}`;
  const topic = `hubnlu/${site}/utterance`;
  const k = i % 40;
  if (k === 10 || k === 30) return { kind: 'other-language', id, topic, payload: JSON.stringify({ id, text: OTHER_LANGUAGES[(i / 40) % OTHER_LANGUAGES.length | 0] }) };
  if (k === 20) return { kind: 'plain-text', topic, payload: UTTERANCES[(i / 40) % UTTERANCES.length | 0] };
  if (k === 15) return { kind: 'rejected', id, topic, payload: JSON.stringify({ id, text: '   ' }) };
  if (k === 25) return { kind: 'rejected', id, topic, payload: JSON.stringify({ id, text: 'lights\u0001on' }) };
  if (k === 35) return { kind: 'rejected', id, topic, payload: JSON.stringify({ id, text: 5 }) };
  if (k === 39) return { kind: 'rejected-no-id', topic, payload: '{"text": "turn on the lamp' };
  return { kind: 'valid', id, topic, payload: JSON.stringify({ id, text: UTTERANCES[i % UTTERANCES.length] }) };
}

// ---------------------------------------------------------------------------------------------------------------
// /proc sampling

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem|Threads):\s+(\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

function smapsAnonymousKb(pid: number): number {
  const m = /^Anonymous:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, USER_HZ 100
}

const sizeOf = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

interface Sample {
  t: number; // seconds since the agent was ready
  rssMb: number;
  anonMb: number;
  fileMb: number;
  smapsAnonMb: number;
  heapUsedMb: number | null;
  fds: number;
  threads: number;
  cpuMs: number;
  dbMb: number;
  walMb: number;
  answered: number;
  published: number;
}

/** Least-squares slope of y over t (seconds), per hour. */
function slopePerHour(points: Array<[number, number]>): number | null {
  const pts = points.filter(([, y]) => Number.isFinite(y));
  if (pts.length < 3) return null;
  const n = pts.length;
  const mt = pts.reduce((s, [t]) => s + t, 0) / n;
  const my = pts.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of pts) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? null : +((num / den) * 3600).toFixed(2);
}

// ---------------------------------------------------------------------------------------------------------------

async function connect(url: string, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, protocolVersion: 5, clean: true, reconnectPeriod: 0, connectTimeout: 10_000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

async function main(): Promise<number> {
  const loadStart = loadavg().map((x) => +x.toFixed(2));
  const broker = new Mosquitto();
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-soak-'));
  const dbPath = join(dir, 'hubnlu.db');
  const snapDir = join(dir, 'snapshots');
  if (SNAPSHOTS) mkdirSync(snapDir);
  const settings = {
    'storage.synchronous': 'normal',
    'storage.retentionDays': 1,
    'storage.maintenanceCron': `*/${MAINTENANCE_S} * * * * *`,
    'log.level': 'info',
  };
  const env = { ...agentEnv({ brokerUrl: broker.url, dbPath, clientId: `hubnlu-soak-${process.pid}`, settings }), ...AGENT_ENV };
  const nodeFlags = [...AGENT_NODE_FLAGS, ...(SNAPSHOTS ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`] : [])];
  const agent = startAgentProcess(env, [], nodeFlags);
  const pid = agent.child.pid!;
  let exited: { code: number | null; signal: string | null } | undefined;
  void agent.exited.then((e) => (exited = e));
  await Promise.race([agent.ready, sleep(60_000).then(() => Promise.reject(new Error(`not ready in 60 s: ${JSON.stringify(agent.logs.slice(-5))}`)))]);
  const readyAt = Date.now();
  say(`mosquitto ${broker.url}; agent pid ${pid} ready; db ${dbPath}; ${RATE} msg/s for ${MINUTES} min; maintenance every ${MAINTENANCE_S} s, ${AGED} aged rows each time`);

  // Subscriber: results and errors by id (id-less ones counted), bridge responses by transaction.
  const byId = new Map<string, number>();
  let anonymousResults = 0;
  let anonymousErrors = 0;
  let answered = 0;
  const responses = new Map<string, number>();
  let heapUsedMb: number | null = null;
  const sub = await connect(broker.url, `soak-sub-${process.pid}`);
  const sentIds = new Set<string>();
  sub.on('message', (topic, payload) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (topic.startsWith('hubnlu/bridge/response/')) {
      const tx = String(body.transaction);
      responses.set(tx, (responses.get(tx) ?? 0) + 1);
      const mem = (body.data as { memory?: { heapUsedBytes?: number } } | undefined)?.memory;
      if (topic.endsWith('/health_check') && typeof mem?.heapUsedBytes === 'number') heapUsedMb = mem.heapUsedBytes / 2 ** 20;
      return;
    }
    answered++;
    const id = String(body.id);
    if (sentIds.has(id)) byId.set(id, (byId.get(id) ?? 0) + 1);
    else if (topic.endsWith('/result')) anonymousResults++;
    else anonymousErrors++;
  });
  await sub.subscribeAsync(['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/#'], { qos: 1 });

  // Aged rows for retention: answered two days ago, their result published; the agent's maintenance deletes them.
  const seeder = new Database(dbPath);
  seeder.pragma('busy_timeout = 10000');
  const insertInput = seeder.prepare(
    `INSERT INTO inputs (id, id_source, delivery_key, received_at, completed_at, topic, site_id, text, tasks, status, intent, confidence)
     VALUES (?, 'assigned', ?, ?, ?, 'hubnlu/site0/utterance', 'site0', 'turn off the kitchen lights', '["intent"]', 'done', 'lights_off', 0.9)`,
  );
  const insertOutbox = seeder.prepare(`INSERT INTO outbox (input_seq, topic, payload, qos, retain, created_at, published_at) VALUES (?, 'hubnlu/site0/result', '{}', 1, 0, ?, ?)`);
  let agedInserted = 0;
  let agedBatch = 0;
  const seedAged = seeder.transaction((n: number) => {
    const when = Date.now() - 2 * 86_400_000;
    for (let k = 0; k < n; k++) {
      const seq = Number(insertInput.run(`aged-${agedBatch}-${k}`, `aged-${agedBatch}-${k}`, when + k, when + k + 5).lastInsertRowid);
      insertOutbox.run(seq, when + k + 5, when + k + 6);
    }
    agedBatch++;
    agedInserted += n;
  });

  const pub = await connect(broker.url, `soak-pub-${process.pid}`);
  const counts: Record<Kind, number> = { valid: 0, 'other-language': 0, 'plain-text': 0, rejected: 0, 'rejected-no-id': 0 };
  let published = 0;
  let acked = 0;
  let inFlight = 0;
  let requests = 0;
  const publishErrors: string[] = [];
  const endAt = readyAt + MINUTES * 60_000;
  const publisher = (async () => {
    let due = 0;
    let last = Date.now();
    let nextHealth = Date.now() + HEALTH_S * 1000;
    let nextAged = Date.now() + 1000;
    while (Date.now() < endAt) {
      const now = Date.now();
      due = Math.min(due + ((now - last) / 1000) * RATE, RATE);
      last = now;
      while (due >= 1 && inFlight < 1000) {
        due -= 1;
        const m = messageFor(published++);
        counts[m.kind]++;
        if (m.id) sentIds.add(m.id);
        inFlight++;
        pub.publish(m.topic, m.payload, { qos: 1 }, (err) => {
          inFlight--;
          if (err) publishErrors.push(err.message);
          else acked++;
        });
      }
      if (now >= nextHealth) {
        nextHealth += HEALTH_S * 1000;
        const n = requests;
        const ask = (command: string, body: Record<string, unknown>) => {
          requests++;
          pub.publish(`hubnlu/bridge/request/${command}`, JSON.stringify({ ...body, transaction: `tx-${requests}` }), { qos: 1 });
        };
        ask('health_check', {});
        if (n % 3 === 0) ask('stats', {});
        if (n % 3 === 1) ask('classify', { text: UTTERANCES[n % UTTERANCES.length] });
      }
      if (AGED > 0 && now >= nextAged) {
        nextAged += MAINTENANCE_S * 1000;
        seedAged(AGED);
      }
      await sleep(10);
    }
  })();

  // Sampler.
  const samples: Sample[] = [];
  let snapshotsTaken = 0;
  const sampleOnce = () => {
    const s = procStatus(pid);
    let fds = 0;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      fds = NaN;
    }
    const sample: Sample = {
      t: +((Date.now() - readyAt) / 1000).toFixed(1),
      rssMb: +(s.VmRSS / 1024).toFixed(2),
      anonMb: +(s.RssAnon / 1024).toFixed(2),
      fileMb: +(s.RssFile / 1024).toFixed(2),
      smapsAnonMb: +(smapsAnonymousKb(pid) / 1024).toFixed(2),
      heapUsedMb: heapUsedMb === null ? null : +(heapUsedMb as number).toFixed(2),
      fds,
      threads: s.Threads,
      cpuMs: cpuMs(pid),
      dbMb: +(sizeOf(dbPath) / 2 ** 20).toFixed(2),
      walMb: +(sizeOf(`${dbPath}-wal`) / 2 ** 20).toFixed(2),
      answered,
      published,
    };
    samples.push(sample);
    return sample;
  };
  while (Date.now() < endAt && !exited) {
    await sleep(SAMPLE_S * 1000);
    if (exited) break;
    const s = sampleOnce();
    say(`rss ${s.rssMb} MB (anon ${s.anonMb}, file ${s.fileMb}), heap ${s.heapUsedMb} MB, fds ${s.fds}, threads ${s.threads}, db ${s.dbMb} MB, wal ${s.walMb} MB; published ${published}, answered ${answered}`);
    if (SNAPSHOTS && snapshotsTaken === 0 && s.t >= (MINUTES * 60) / 3) {
      agent.child.kill('SIGUSR2');
      snapshotsTaken++;
    }
  }
  await publisher;
  if (SNAPSHOTS && !exited) {
    agent.child.kill('SIGUSR2');
    snapshotsTaken++;
  }

  // Drain: every published input answered (or 60 s of silence).
  const expected = published + 0;
  let last = -1;
  let quietSince = Date.now();
  while (!exited) {
    const done = byId.size === sentIds.size && anonymousResults + anonymousErrors >= counts['plain-text'] + counts['rejected-no-id'] && inFlight === 0;
    if (done && [...responses.keys()].length >= requests) break;
    if (answered !== last) {
      last = answered;
      quietSince = Date.now();
    }
    if (Date.now() - quietSince > 30_000) break;
    await sleep(250);
  }
  await sleep(2000); // late repeats
  const final = exited ? undefined : sampleOnce();
  seeder.close();
  agent.child.kill('SIGTERM');
  const killer = setTimeout(() => agent.child.kill('SIGKILL'), 20_000);
  const finalExit = await agent.exited;
  clearTimeout(killer);
  await pub.endAsync();
  await sub.endAsync();
  await broker.stop();
  const loadEnd = loadavg().map((x) => +x.toFixed(2));

  // Retention: what the agent's maintenance runs deleted.
  const maint = agent.logs.filter((l) => l.msg === 'maintenance done');
  const deletedInputs = maint.reduce((s, l) => s + Number(l.deletedInputs ?? 0), 0);
  const deletedMessages = maint.reduce((s, l) => s + Number(l.deletedMessages ?? 0), 0);
  const maintenanceFailures = agent.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('maintenance failed')).length;
  const errorLogs = agent.logs.filter((l) => typeof l.level === 'number' && l.level >= 50).map((l) => String(l.msg));
  const warnLogs = new Map<string, number>();
  for (const l of agent.logs) if (l.level === 40) warnLogs.set(String(l.msg), (warnLogs.get(String(l.msg)) ?? 0) + 1);

  // Exactly once.
  const missing = [...sentIds].filter((id) => !byId.has(id));
  const repeated = [...byId].filter(([, n]) => n > 1).map(([id, n]) => `${id}×${n}`);
  const anonymousExpected = counts['plain-text'] + counts['rejected-no-id'];
  const anonymousGot = anonymousResults + anonymousErrors;
  const missingResponses = Array.from({ length: requests }, (_, k) => `tx-${k + 1}`).filter((tx) => !responses.has(tx));
  const repeatedResponses = [...responses].filter(([, n]) => n > 1).map(([tx]) => tx);
  const failures: Array<[string, string[]]> = [];
  if (missing.length) failures.push(['inputs with an id never answered', missing]);
  if (repeated.length) failures.push(['inputs answered more than once', repeated]);
  if (anonymousGot !== anonymousExpected) failures.push([`id-less inputs answered ${anonymousGot} times, ${anonymousExpected} sent`, []]);
  if (missingResponses.length) failures.push(['bridge requests never answered', missingResponses]);
  if (repeatedResponses.length) failures.push(['bridge requests answered more than once', repeatedResponses]);
  if (publishErrors.length) failures.push(['publishes the broker refused', publishErrors.slice(0, 20)]);
  if (finalExit.code !== 0) failures.push(['the agent did not stop with code 0', [`${finalExit.code ?? finalExit.signal}`, ...agent.logs.slice(-5).map((l) => JSON.stringify(l))]]);
  if (expected !== acked) failures.push([`${expected - acked} publishes never acknowledged`, []]);

  // Slopes after the warm-up, first half vs second half.
  const steady = samples.filter((s) => s.t >= WARMUP_S);
  const mid = steady.length ? (steady[0].t + steady.at(-1)!.t) / 2 : 0;
  const halves = [steady.filter((s) => s.t <= mid), steady.filter((s) => s.t >= mid)];
  const metrics: Array<[keyof Sample, string]> = [
    ['rssMb', 'MB/h'],
    ['anonMb', 'MB/h'],
    ['fileMb', 'MB/h'],
    ['smapsAnonMb', 'MB/h'],
    ['heapUsedMb', 'MB/h'],
    ['fds', 'fds/h'],
    ['threads', 'threads/h'],
    ['walMb', 'MB/h'],
    ['dbMb', 'MB/h'],
  ];
  const slopes = Object.fromEntries(
    metrics.map(([k, unit]) => [
      k,
      {
        unit,
        firstHalf: slopePerHour(halves[0].map((s) => [s.t, s[k] as number])),
        secondHalf: slopePerHour(halves[1].map((s) => [s.t, s[k] as number])),
        whole: slopePerHour(steady.map((s) => [s.t, s[k] as number])),
        min: steady.length ? Math.min(...steady.map((s) => s[k] as number).filter(Number.isFinite)) : null,
        max: steady.length ? Math.max(...steady.map((s) => s[k] as number).filter(Number.isFinite)) : null,
      },
    ]),
  );
  const first = samples[0];
  const lastSample = final ?? samples.at(-1);
  const cpuPerMsg = lastSample && first ? +((lastSample.cpuMs - first.cpuMs) / Math.max(1, lastSample.answered - first.answered)).toFixed(3) : null;

  const report = {
    date: new Date().toISOString(),
    command: `node dist/bench/soak.js ${process.argv.slice(2).join(' ')}`.trim(),
    settings: { minutes: MINUTES, rate: RATE, sampleSeconds: SAMPLE_S, warmupSeconds: WARMUP_S, maintenanceSeconds: MAINTENANCE_S, agedPerRun: AGED, healthSeconds: HEALTH_S, agent: settings, agentNodeFlags: nodeFlags, agentEnv: AGENT_ENV },
    loadavg: { start: loadStart, end: loadEnd },
    published,
    byKind: counts,
    answered,
    anonymous: { expected: anonymousExpected, results: anonymousResults, errors: anonymousErrors },
    bridge: { requests, responses: responses.size },
    retention: { agedInserted, maintenanceRuns: maint.length, deletedInputs, deletedMessages, maintenanceFailures },
    cpuMsPerMessage: cpuPerMsg,
    peakRssMb: procPeak(samples),
    slopes,
    finalExit,
    agentErrorLogs: errorLogs.slice(0, 20),
    agentWarnLogs: Object.fromEntries(warnLogs),
    snapshots: SNAPSHOTS ? { dir: snapDir, taken: snapshotsTaken } : undefined,
    passed: failures.length === 0,
    failures: failures.map(([what, ids]) => ({ what, count: ids.length, ids: ids.slice(0, 50) })),
    samples: final ? [...samples, final] : samples,
  };
  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');

  const fmt = (v: number | null) => (v === null ? '—' : String(v));
  const rows: Array<[string, string]> = [
    ['minutes / rate', `${MINUTES} / ${RATE} msg/s`],
    ['load average start → end', `${loadStart.join(' ')} → ${loadEnd.join(' ')}`],
    ['published (valid / other lang / plain / rejected / no-id)', `${published} (${counts.valid} / ${counts['other-language']} / ${counts['plain-text']} / ${counts.rejected} / ${counts['rejected-no-id']})`],
    ['answered messages / bridge responses', `${answered} / ${responses.size} of ${requests}`],
    ['retention: aged inserted / deleted (runs)', `${agedInserted} / ${deletedInputs} (${maint.length})`],
    ['CPU ms per message', fmt(cpuPerMsg)],
    ...metrics.map(([k, unit]): [string, string] => {
      const s = slopes[k as string] as { firstHalf: number | null; secondHalf: number | null; min: number | null; max: number | null };
      return [`${k} slope ${unit} 1st / 2nd half (min–max)`, `${fmt(s.firstHalf)} / ${fmt(s.secondHalf)} (${fmt(s.min)}–${fmt(s.max)})`];
    }),
    ['PASSED', failures.length === 0 ? 'yes' : 'NO'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  for (const [what, ids] of failures) console.log(`FAIL ${what}: ${ids.length}: ${ids.slice(0, 20).join(', ')}`);
  if (failures.length === 0 && !SNAPSHOTS) rmSync(dir, { recursive: true, force: true });
  else say(`kept ${dir}`);
  rmSync(broker.dir, { recursive: true, force: true });
  return failures.length === 0 ? 0 : 1;
}

function procPeak(samples: readonly Sample[]): number | null {
  return samples.length ? Math.max(...samples.map((s) => s.rssMb)) : null;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
