/**
 * What a shadow model (models.shadow) costs the live path: a real mosquitto
 * broker and a real `hubnlu run` process, with and without a shadow candidate
 * (the shipped intent and sentiment models themselves, so the shadow does as
 * much work as the live models). Publish-to-result latency seen by a client:
 *
 * - one at a time: publish, wait for the answer, repeat (a household speaking);
 * - paced: a steady stream at --rate inputs/s (a busy home with automations);
 * - flood: --n inputs, 200 in flight at once (the live path never idle: the
 *   shadow's backlog fills and later inputs are skipped; the live results
 *   must not slow down).
 *
 * The shadow runs in its own worker thread at models.shadow.nice (default 19).
 *
 *   npm run bench:shadow [-- --n 2000 --rate 100 --rounds 2]
 *
 * Prints a table and writes bench/results/shadow.json.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { connectClient } from '../test/helpers/mqtt.js';
import { stringify } from 'yaml';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { startAgentProcess, REPO_ROOT } from '../test/helpers/cli.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) || fallback : fallback;
};
const N = arg('n', 2000);
const RATE = arg('rate', 100);
const PACED = arg('paced', 1000);
const ONE_AT_A_TIME = arg('single', 300);
const ROUNDS = arg('rounds', 2);
const WINDOW = 200;
const SENTENCES = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'lock the front door', 'wake me up at seven am'];

function connect(url: string, id: string): Promise<MqttClient> {
  return connectClient(url, { clientId: id, protocolVersion: 5, clean: true });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

interface Latency {
  p50: number;
  p99: number;
}
const lat = (xs: number[]): Latency => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });

interface Run {
  shadow: boolean;
  oneAtATime: Latency;
  paced: Latency;
  flood: Latency;
  /** Answered inputs with a stored shadow prediction, of all answered inputs. */
  shadowLogged: number;
  answered: number;
  /** The agent's shadow counters at stop (queued, done, failed, dropped, skipped, restarts, disabled). */
  shadowStats?: Record<string, number | boolean>;
  /** The 1-minute load average when the run started and when it ended. */
  load: [number, number];
  /**
   * CPU time of the agent process's main thread (the live path's event loop) and of its niced threads (the shadow's
   * worker), ms per answered input, whole run including start-up and warm-up (Linux /proc; null elsewhere).
   */
  cpuMsPerInput: { main: number; shadowThread: number } | null;
}

/** utime + stime (ms) of the process's main thread and of its threads at a nice value above 0. */
function threadCpu(pid: number): { main: number; niced: number } | null {
  try {
    const tick = 10; // USER_HZ is 100 on Linux
    let main = 0;
    let niced = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * tick; // fields 14, 15
      if (Number(tid) === pid) main = ms;
      else if (Number(f[16]) > 0) niced += ms; // field 19: nice
    }
    return { main, niced };
  } catch {
    return null;
  }
}

/** Tracks publish time → result time by id. */
class Clock {
  private readonly sentAt = new Map<string, number>();
  private readonly waiters = new Map<string, (ms: number) => void>();
  constructor(sub: MqttClient) {
    sub.on('message', (_topic, payload) => {
      const id = (JSON.parse(payload.toString()) as { id: string }).id;
      const start = this.sentAt.get(id);
      if (start === undefined) return;
      this.sentAt.delete(id);
      this.waiters.get(id)?.(performance.now() - start);
      this.waiters.delete(id);
    });
  }
  send(pub: MqttClient, id: string, text: string): Promise<number> {
    const answered = new Promise<number>((resolve) => this.waiters.set(id, resolve));
    this.sentAt.set(id, performance.now());
    void pub.publishAsync('hubnlu/kitchen/utterance', JSON.stringify({ id, text }), { qos: 1 });
    return answered;
  }
}

async function run(url: string, shadow: boolean, round: number): Promise<Run> {
  const loadBefore = loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-bench-shadow-'));
  const dbPath = join(dir, 'hubnlu.db');
  const config = {
    // Session expiry 1 s: each run's agent leaves no session behind on the shared broker (a kept session would queue
    // every later run's inputs, slowing each run more than the one before).
    mqtt: { url, clientId: `hubnlu-bench-shadow-${shadow}-${round}`, sessionExpirySeconds: 1 },
    storage: { path: dbPath, synchronous: 'normal' },
    log: { level: 'info' },
    models: shadow ? { shadow: { intent: 'models/intent', sentiment: 'models/sentiment' } } : {},
  };
  const configFile = join(dir, 'hubnlu.yaml');
  writeFileSync(configFile, stringify(config));
  const agent = startAgentProcess({}, ['--config', configFile]);
  await agent.ready;
  const sub = await connect(url, `bench-shadow-sub-${shadow}-${round}`);
  const pub = await connect(url, `bench-shadow-pub-${shadow}-${round}`);
  await sub.subscribeAsync('hubnlu/+/result', { qos: 1 });
  const clock = new Clock(sub);
  const text = (i: number) => SENTENCES[i % SENTENCES.length];

  // Warm-up, not measured.
  for (let i = 0; i < 50; i++) await clock.send(pub, `w${i}`, text(i));

  const single: number[] = [];
  for (let i = 0; i < ONE_AT_A_TIME; i++) single.push(await clock.send(pub, `s${i}`, text(i)));

  const paced: Promise<number>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < PACED; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    paced.push(clock.send(pub, `p${i}`, text(i)));
  }
  const pacedMs = await Promise.all(paced);

  const flood: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < N) {
        const i = next++;
        flood.push(await clock.send(pub, `f${i}`, text(i)));
      }
    }),
  );
  // Give the shadow a moment of idle to catch up with what it kept, then stop (SIGTERM writes what is done).
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = threadCpu(agent.child.pid!);
  await sub.endAsync();
  await pub.endAsync();
  agent.child.kill('SIGTERM');
  await agent.exited;
  const db = new Database(dbPath, { readonly: true });
  const counts = db.prepare(`SELECT count(*) AS answered, count(shadow_model) AS logged FROM inputs WHERE status = 'done'`).get() as { answered: number; logged: number };
  db.close();
  const stopped = agent.logs.find((l) => l.msg === 'stopped') as { shadow?: Record<string, number | boolean> } | undefined;
  return { shadow, oneAtATime: lat(single), paced: lat(pacedMs), flood: lat(flood), shadowLogged: counts.logged, answered: counts.answered, shadowStats: stopped?.shadow, load: [loadBefore, loadavg()[0]],
    cpuMsPerInput: cpu && counts.answered > 0 ? { main: cpu.main / counts.answered, shadowThread: cpu.niced / counts.answered } : null };
}

async function main(): Promise<void> {
  const broker = new Mosquitto();
  await broker.start();
  try {
    const runs: Run[] = [];
    // Interleaved, so drift on a shared machine falls on both sides; the order alternates by round (off/on, on/off, …)
    // so that neither side is always the later one.
    for (let round = 0; round < ROUNDS; round++) for (const shadow of round % 2 ? [true, false] : [false, true]) runs.push(await run(broker.url, shadow, round));
    const f = (x: number) => x.toFixed(2);
    console.log(`publish → result through mosquitto (QoS 1): ${ONE_AT_A_TIME} one at a time, ${PACED} paced at ${RATE}/s, ${N} flooding with ${WINDOW} in flight`);
    console.table(
      runs.map((r, i) => ({
        round: Math.floor(i / 2) + 1,
        order: i % 2 ? 'second' : 'first',
        shadow: r.shadow ? 'on' : 'off',
        'one at a time p50 / p99 ms': `${f(r.oneAtATime.p50)} / ${f(r.oneAtATime.p99)}`,
        [`paced ${RATE}/s p50 / p99 ms`]: `${f(r.paced.p50)} / ${f(r.paced.p99)}`,
        'flood p50 / p99 ms': `${f(r.flood.p50)} / ${f(r.flood.p99)}`,
        'shadow predictions logged': r.shadow ? `${r.shadowLogged} of ${r.answered}` : '-',
        'shadow skipped (behind)': r.shadowStats ? r.shadowStats.dropped : '-',
        'main thread CPU ms/input': r.cpuMsPerInput ? r.cpuMsPerInput.main.toFixed(3) : '-',
        'shadow thread CPU ms/input': r.cpuMsPerInput && r.shadow ? r.cpuMsPerInput.shadowThread.toFixed(3) : '-',
        'load 1 min': `${r.load[0].toFixed(2)} → ${r.load[1].toFixed(2)}`,
      })),
    );
    // Across rounds: the median of each figure per side, with its range (the run-to-run noise), and the median of the
    // paired differences (on minus off in the same round), which cancels the drift that rounds share.
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    const figures: Array<[string, (r: Run) => number]> = [
      ['one at a time p50', (r) => r.oneAtATime.p50],
      ['one at a time p99', (r) => r.oneAtATime.p99],
      [`paced ${RATE}/s p50`, (r) => r.paced.p50],
      [`paced ${RATE}/s p99`, (r) => r.paced.p99],
      ['flood p50', (r) => r.flood.p50],
      ['flood p99', (r) => r.flood.p99],
      ['main thread CPU ms/input', (r) => r.cpuMsPerInput?.main ?? NaN],
    ];
    // Same-round pairs, whatever the order they ran in.
    const off = runs.filter((r) => !r.shadow);
    const on = runs.filter((r) => r.shadow);
    const summary = figures.map(([name, get]) => {
      const a = off.map(get);
      const b = on.map(get);
      return {
        figure: name,
        'off: median [min, max]': `${f(median(a))} [${f(Math.min(...a))}, ${f(Math.max(...a))}]`,
        'on: median [min, max]': `${f(median(b))} [${f(Math.min(...b))}, ${f(Math.max(...b))}]`,
        'on − off, same round: median [min, max]': `${f(median(b.map((x, i) => x - a[i])))} [${f(Math.min(...b.map((x, i) => x - a[i])))}, ${f(Math.max(...b.map((x, i) => x - a[i])))}]`,
      };
    });
    console.log(`\nacross ${ROUNDS} rounds (ms):`);
    console.table(summary);
    const out = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'shadow.json'), JSON.stringify({ measuredAt: new Date().toISOString(), n: N, rate: RATE, paced: PACED, oneAtATime: ONE_AT_A_TIME, window: WINDOW, runs, summary }, null, 2) + '\n');
  } finally {
    await broker.stop();
  }
}

await main();
