/**
 * End-to-end numbers through a real mosquitto broker and a real `hubnlu run`
 * process with logging on (issue 10):
 *
 * - the limit: the same broker, message count and in-flight window carried by
 *   an echo client (its own process) that republishes every message at QoS 1;
 *   hubnlu's results/s is reported as a share of it (and of plain pub → sub);
 * - hubnlu results/s with `storage.synchronous` normal and full (median of
 *   `--repeat` runs, each on a fresh agent and database);
 * - publish-to-result latency p50/p99 at `--rate` msg/s offered, after a
 *   `--warmup` flood, for hubnlu and for the echo client (the floor the
 *   broker, the clients and this process give);
 * - cold start (spawn to ready), RSS idle (both shipped models loaded) and
 *   peak (VmHWM) under the flood;
 * - CPU per message (the agent's utime + stime over the flood) and its split
 *   by component, measured with a V8 CPU profile of one extra flood
 *   (`--cpu-prof`), each sample charged to the innermost frame that belongs to
 *   a component (parse, SQLite, models, MQTT, results, GC, other).
 *
 *   npm run build && node dist/bench/e2e.js [--n 50000] [--window 1000] [--repeat 3] [--rate 1000] [--latency-n 5000] [--warmup 2000]
 *     [--flags "--max-semi-space-size=4"]   (node flags added after the shipped ones, to compare; the JSON records them)
 *
 * mosquitto runs with `set_tcp_nodelay true` and every client turns Nagle's
 * algorithm off, as hubnlu does on its own sockets (else delayed ACKs add
 * 5-20 ms to the latency of a steady stream, echo client included).
 *
 * Prints tables and writes bench/results/e2e.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectClient } from '../test/helpers/mqtt.js';
import { envNameFor } from '../src/config/schema.js';
import { AGENT_NODE_FLAGS, AGENT_ENV as SHIPPED_ENV } from './agent-settings.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { startAgentProcess, REPO_ROOT } from '../test/helpers/cli.js';
import { CPU_COMPONENTS } from './cpu-components.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const N = arg('n', 50_000);
const WINDOW = arg('window', 1000);
const REPEAT = arg('repeat', 3);
const RATE = arg('rate', 1000);
const LATENCY_N = arg('latency-n', 5000);
/** Messages flooded through a fresh agent before its latency is timed (a service runs warm; 0 times it cold). */
const WARMUP_N = process.argv.includes('--warmup') ? Math.max(0, Number(process.argv[process.argv.indexOf('--warmup') + 1]) || 0) : 2000;
const PROFILE_N = arg('profile-n', Math.min(N, 20_000));
const SENTENCES = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'lock the front door'];
const CLK_TCK = 100; // Linux USER_HZ
/** Node flags added after the shipped ones (`--flags "…"`; a later flag wins), to compare other settings. */
const EXTRA_FLAGS = (process.argv.indexOf('--flags') >= 0 ? (process.argv[process.argv.indexOf('--flags') + 1] ?? '') : '').split(' ').filter(Boolean);
/** The shipped environment, plus models.thread when the bench's own environment sets it. */
const AGENT_ENV: Record<string, string> = { ...SHIPPED_ENV };
// models.thread for an A/B of the model thread (main / worker / auto) without editing the bench: set it in the bench's environment.
const THREAD_ENV = envNameFor('models.thread');
if (process.env[THREAD_ENV]) AGENT_ENV[THREAD_ENV] = process.env[THREAD_ENV];

async function connect(url: string, id: string): Promise<MqttClient> {
  const client = await connectClient(url, { clientId: id, protocolVersion: 5, clean: true });
  // Nagle off, as the agent does on its own sockets: otherwise the bench's clients add their own delayed-ACK waits.
  (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `n` messages at QoS 1 with at most WINDOW unacknowledged. */
async function publishAll(client: MqttClient, n: number, topic: (i: number) => string, payload: (i: number) => string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await client.publishAsync(topic(i), payload(i), { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

/** Resolves after `n` messages arrived on `sub` (already subscribed), then stops listening. */
function countTo(sub: MqttClient, n: number, onMessage?: (payload: Buffer) => void): Promise<void> {
  if (n <= 0) return Promise.resolve();
  let got = 0;
  return new Promise<void>((resolve) => {
    const listener = (_topic: string, payload: Buffer) => {
      onMessage?.(payload);
      if (++got === n) {
        sub.off('message', listener);
        resolve();
      }
    };
    sub.on('message', listener);
  });
}

/** Publishes `n` messages (WINDOW in flight) and waits for `n` answers on `sub`: the elapsed ms. */
async function flood(pub: MqttClient, sub: MqttClient, n: number, topic: (i: number) => string, payload: (i: number) => string): Promise<number> {
  const done = countTo(sub, n);
  const t0 = performance.now();
  await publishAll(pub, n, topic, payload);
  await done;
  return performance.now() - t0;
}

/** Publish-to-answer times (ms, sorted) of `n` messages offered at RATE msg/s; answers carry the input's `id`. */
async function latencyAt(pub: MqttClient, sub: MqttClient, n: number, topic: (i: number) => string, prefix: string): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const answered = countTo(sub, n, (payload) => {
    const r = JSON.parse(payload.toString()) as { id: string };
    const t = sentAt.get(r.id);
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  const t0 = performance.now();
  for (let i = 0; i < n; ) {
    const due = Math.min(n, Math.floor(((performance.now() - t0) * RATE) / 1000) + 1);
    for (; i < due; i++) {
      sentAt.set(`${prefix}${i}`, performance.now());
      void pub.publishAsync(topic(i), inputPayload(i, prefix), { qos: 1 });
    }
    await sleep(1);
  }
  await answered;
  return latencies.sort((a, b) => a - b);
}

const inputPayload = (i: number, prefix = 'b') => JSON.stringify({ id: `${prefix}${i}`, text: SENTENCES[i % SENTENCES.length] });

/** Plain publish → subscribe through the broker, QoS 1 (no echo hop). */
async function plainPubSub(url: string, run: number): Promise<number> {
  const sub = await connect(url, `bench-plain-sub-${run}`);
  const pub = await connect(url, `bench-plain-pub-${run}`);
  await sub.subscribeAsync(`plain${run}/+/in`, { qos: 1 });
  const rate = N / ((await flood(pub, sub, N, (i) => `plain${run}/s${i % 8}/in`, (i) => inputPayload(i, 'p'))) / 1000);
  await sub.endAsync();
  await pub.endAsync();
  return rate;
}

/** Publisher → broker → echo client (own process, republishes at QoS 1) → broker → counter. */
async function echoLimit(url: string, run: number): Promise<{ rate: number; latencyMs: { p50: number; p99: number } }> {
  const prefix = `echo${run}`;
  const echo = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'echo-client.js'), url, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
  const sub = await connect(url, `bench-echo-sub-${run}`);
  const pub = await connect(url, `bench-echo-pub-${run}`);
  await sub.subscribeAsync(`${prefix}/+/out`, { qos: 1 });
  const rate = N / ((await flood(pub, sub, N, (i) => `${prefix}/s${i % 8}/in`, (i) => inputPayload(i, 'e'))) / 1000);
  // The same steady-rate latency measurement as the agent's: the floor the broker, the clients and the bench give.
  await flood(pub, sub, WARMUP_N, (i) => `${prefix}/s${i % 8}/in`, (i) => inputPayload(i, 'ew'));
  const latencies = await latencyAt(pub, sub, LATENCY_N, (i) => `${prefix}/s${i % 8}/in`, 'el');
  await sub.endAsync();
  await pub.endAsync();
  echo.kill('SIGTERM');
  await new Promise((resolve) => echo.once('exit', resolve));
  return { rate, latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) } };
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
}

/** CPU ms (user + system) per thread name, and in all. */
function cpuByThread(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime, stime (fields 14, 15)
      const key = Number(tid) === pid ? 'main' : name.replace(/[\d-]+$/, '') || name;
      out[key] = (out[key] ?? 0) + ms;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}
const sumValues = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

interface AgentProc {
  readonly child: ChildProcess;
  readonly coldStartMs: number;
  readonly dir: string;
}

async function startAgent(url: string, synchronous: 'full' | 'normal', id: string, nodeArgs: string[] = []): Promise<AgentProc> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-bench-'));
  const env: Record<string, string> = Object.fromEntries(
    Object.entries({
      'mqtt.url': url,
      'mqtt.clientId': `hubnlu-bench-${id}`,
      'storage.path': join(dir, 'hubnlu.db'),
      'storage.synchronous': synchronous,
      'log.level': 'info', // logging on; the ready line is at info
    }).map(([k, v]) => [envNameFor(k), v]),
  );
  Object.assign(env, AGENT_ENV);
  const t0 = performance.now();
  const agent = startAgentProcess(env, [], [...AGENT_NODE_FLAGS, ...EXTRA_FLAGS, ...nodeArgs]);
  await agent.ready;
  return { child: agent.child, coldStartMs: performance.now() - t0, dir };
}

async function stopAgent(a: AgentProc): Promise<void> {
  const exited = new Promise((resolve) => a.child.once('exit', resolve));
  a.child.kill('SIGTERM');
  await exited;
  rmSync(a.dir, { recursive: true, force: true });
}

interface AgentRun {
  readonly synchronous: 'full' | 'normal';
  readonly coldStartMs: number;
  readonly idleRssMb: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly offeredPerSec: number; readonly n: number };
  /** The agent's main-thread CPU a message during the latency phase (inputs one or two at a time, unlike the flood's batches). */
  readonly latencyMainCpuMsPerMessage: number;
  readonly resultsPerSec: number;
  readonly peakRssMb: number;
  readonly cpuMsPerMessage: number;
  readonly cpuMsPerMessageByThread: Record<string, number>;
}

/** One fresh agent: idle RSS, latency at RATE msg/s, then the N-message flood (results/s, CPU, peak RSS). */
async function agentRun(url: string, synchronous: 'full' | 'normal', run: number): Promise<AgentRun> {
  const id = `${synchronous}-${run}`;
  const agent = await startAgent(url, synchronous, id);
  const pid = agent.child.pid!;
  await sleep(1000);
  const idleRssMb = procStatus(pid, 'VmRSS');
  const sub = await connect(url, `bench-sub-${id}`);
  const pub = await connect(url, `bench-pub-${id}`);
  await sub.subscribeAsync('hubnlu/+/result', { qos: 1 });

  // Warm-up: a service answers warm; the first inputs after start pay for JIT compilation and lazy loads.
  await flood(pub, sub, WARMUP_N, (i) => `hubnlu/room${i % 8}/utterance`, (i) => inputPayload(i, 'w'));
  // Latency at a steady offered rate: publish on schedule, time each answer.
  const latencyCpuBefore = cpuByThread(pid).main;
  const latencies = await latencyAt(pub, sub, LATENCY_N, (i) => `hubnlu/room${i % 8}/utterance`, 'l');
  const latencyMainCpuMsPerMessage = (cpuByThread(pid).main - latencyCpuBefore) / LATENCY_N;

  // The flood.
  const cpuBefore = cpuByThread(pid);
  const resultsPerSec = N / ((await flood(pub, sub, N, (i) => `hubnlu/room${i % 8}/utterance`, (i) => inputPayload(i, `f${run}-`))) / 1000);
  const cpuAfter = cpuByThread(pid);
  const peakRssMb = procStatus(pid, 'VmHWM');
  await sub.endAsync();
  await pub.endAsync();
  await stopAgent(agent);
  const byThread: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpuAfter)) byThread[k] = (v - (cpuBefore[k] ?? 0)) / N;
  return {
    synchronous,
    coldStartMs: agent.coldStartMs,
    idleRssMb,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), offeredPerSec: RATE, n: LATENCY_N },
    latencyMainCpuMsPerMessage,
    resultsPerSec,
    peakRssMb,
    cpuMsPerMessage: (sumValues(cpuAfter) - sumValues(cpuBefore)) / N,
    cpuMsPerMessageByThread: byThread,
  };
}


interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** CPU share per component from a .cpuprofile: each sample goes to the innermost frame that names a component. */
function splitProfile(file: string): Record<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const memo = new Map<number, string | null>();
  const component = (id: number): string | null => {
    if (memo.has(id)) return memo.get(id)!;
    const n = byId.get(id)!;
    const key = n.callFrame.url || n.callFrame.functionName;
    if (n.callFrame.functionName === '(idle)') return null;
    let found: string | null = CPU_COMPONENTS.find(([, re]) => re.test(key))?.[0] ?? null;
    if (!found) {
      const p = parent.get(id);
      found = p === undefined ? 'other' : component(p);
    }
    memo.set(id, found);
    return found;
  };
  const totals: Record<string, number> = {};
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const c = component(id);
    if (c === null) return;
    const dt = profile.timeDeltas[i] ?? 0;
    totals[c] = (totals[c] ?? 0) + dt;
    busy += dt;
  });
  const share: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals)) share[k] = v / busy;
  return share;
}

/** One more flood (synchronous normal) under `--cpu-prof`: the main thread's time by component. */
async function profileRun(url: string): Promise<Record<string, number>> {
  const profDir = mkdtempSync(join(tmpdir(), 'hubnlu-prof-'));
  const agent = await startAgent(url, 'normal', 'profile', ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const sub = await connect(url, 'bench-sub-profile');
  const pub = await connect(url, 'bench-pub-profile');
  await sub.subscribeAsync('hubnlu/+/result', { qos: 1 });
  await flood(pub, sub, PROFILE_N, (i) => `hubnlu/room${i % 8}/utterance`, (i) => inputPayload(i, 'prof'));
  await sub.endAsync();
  await pub.endAsync();
  await stopAgent(agent);
  // One profile per thread (CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile): the main thread's id is 0.
  const file = readdirSync(profDir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) throw new Error('the agent wrote no CPU profile');
  const share = splitProfile(join(profDir, file));
  // --keep-profile <dir>: keep the main thread's profile (for a closer look in DevTools or a script).
  const keep = process.argv.indexOf('--keep-profile');
  if (keep >= 0 && process.argv[keep + 1]) copyFileSync(join(profDir, file), join(process.argv[keep + 1], file));
  rmSync(profDir, { recursive: true, force: true });
  return share;
}

async function main(): Promise<void> {
  const broker = new Mosquitto({ extraConfig: ['autosave_on_changes false', 'autosave_interval 60', 'set_tcp_nodelay true'] });
  await broker.start();
  const loadBefore = loadavg();
  try {
    const echo: number[] = [];
    const echoLatency: Array<{ p50: number; p99: number }> = [];
    const plain: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const e = await echoLimit(broker.url, r);
      echo.push(e.rate);
      echoLatency.push(e.latencyMs);
      plain.push(await plainPubSub(broker.url, r));
    }
    const echoMedian = median(echo);
    const echoP50 = median(echoLatency.map((l) => l.p50));
    const echoP99 = median(echoLatency.map((l) => l.p99));
    const runs: AgentRun[] = [];
    for (let r = 0; r < REPEAT; r++) for (const sync of ['normal', 'full'] as const) runs.push(await agentRun(broker.url, sync, r));
    const cpuSplit = await profileRun(broker.url);

    const summary = (['normal', 'full'] as const).map((sync) => {
      const rs = runs.filter((r) => r.synchronous === sync);
      const m = (f: (r: AgentRun) => number) => median(rs.map(f));
      return {
        synchronous: sync,
        resultsPerSec: m((r) => r.resultsPerSec),
        shareOfEcho: m((r) => r.resultsPerSec) / echoMedian,
        latencyP50Ms: m((r) => r.latencyMs.p50),
        latencyP99Ms: m((r) => r.latencyMs.p99),
        latencyMainCpuMsPerMessage: m((r) => r.latencyMainCpuMsPerMessage),
        coldStartMs: m((r) => r.coldStartMs),
        idleRssMb: m((r) => r.idleRssMb),
        peakRssMb: m((r) => r.peakRssMb),
        cpuMsPerMessage: m((r) => r.cpuMsPerMessage),
        mainCpuMsPerMessage: m((r) => r.cpuMsPerMessageByThread.main ?? 0),
      };
    });
    const loadAfter = loadavg();
    console.log(
      `mosquitto, QoS 1, ${N} messages, ${WINDOW} in flight, median of ${REPEAT}; echo limit ${echoMedian.toFixed(0)} msg/s (runs ${echo.map((e) => e.toFixed(0)).join(', ')}), plain pub→sub ${median(plain).toFixed(0)} msg/s; echo p50 / p99 at ${RATE}/s ${echoP50.toFixed(2)} / ${echoP99.toFixed(2)} ms (warm-up ${WARMUP_N}); load average ${loadBefore[0].toFixed(1)} → ${loadAfter[0].toFixed(1)} on ${cpus().length} cores`,
    );
    console.table(
      summary.map((s) => ({
        'storage.synchronous': s.synchronous,
        'results/s': s.resultsPerSec.toFixed(0),
        'of echo limit': `${(100 * s.shareOfEcho).toFixed(0)}%`,
        [`p50 / p99 ms at ${RATE}/s`]: `${s.latencyP50Ms.toFixed(2)} / ${s.latencyP99Ms.toFixed(2)}`,
        [`main CPU ms/msg at ${RATE}/s`]: s.latencyMainCpuMsPerMessage.toFixed(3),
        'cold start ms': s.coldStartMs.toFixed(0),
        'RSS idle / peak MB': `${s.idleRssMb.toFixed(0)} / ${s.peakRssMb.toFixed(0)}`,
        'CPU ms/msg': s.cpuMsPerMessage.toFixed(3),
        'main thread ms/msg': s.mainCpuMsPerMessage.toFixed(3),
      })),
    );
    const cpuNormal = summary[0].mainCpuMsPerMessage; // the profile is the main thread's
    console.log(`CPU per message by component (main thread, V8 profile of ${PROFILE_N} messages, synchronous normal; ms = share × ${cpuNormal.toFixed(3)} ms):`);
    console.table(
      Object.entries(cpuSplit)
        .sort((a, b) => b[1] - a[1])
        .map(([component, share]) => ({ component, share: `${(100 * share).toFixed(1)}%`, 'ms/msg': (share * cpuNormal).toFixed(3) })),
    );
    const out = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'e2e.json'),
      JSON.stringify(
        {
          measuredAt: new Date().toISOString(),
          modelsThread: AGENT_ENV[THREAD_ENV] ?? 'default',
          agentNodeFlags: [...AGENT_NODE_FLAGS, ...EXTRA_FLAGS],
          machine: { cores: cpus().length, model: cpus()[0]?.model, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
          n: N,
          window: WINDOW,
          repeat: REPEAT,
          echoLimit: { msgsPerSec: echoMedian, runs: echo, latencyMs: { p50: echoP50, p99: echoP99, offeredPerSec: RATE, runs: echoLatency } },
          warmupMessages: WARMUP_N,
          plainPubSub: { msgsPerSec: median(plain), runs: plain },
          summary,
          cpuSplit: { profiledMessages: PROFILE_N, share: cpuSplit },
          runs,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await broker.stop();
  }
}

await main();
