/**
 * Where the publish-to-result time goes at a steady offered rate (issue 10):
 * bench/e2e's latency phase (a fresh agent on mosquitto, a `--warmup` flood,
 * then `--latency-n` messages at `--rate` msg/s) with the agent's
 * `HUBNLU_LATENCY_TRACE` diagnostic on. Each answer's time is split into the
 * stages the agent stamped (publish → arrival in the agent → picked by the worker →
 * models done → input and result committed → result handed to MQTT → result received by
 * this process), for all messages and for the slowest 1 %; the agent's event-loop
 * stalls and GC pauses are listed next to the slow ones.
 *
 *   npm run build && node dist/bench/latency-trace.js [--sync normal|full] [--rate 1000] [--latency-n 5000] [--warmup 2000]
 *     [--cpu-prof] [--set storage.checkpointThread=false] [--stall-ms 8] [--show 25] [--json out.json]
 *
 * Take the bench lock (`flock /tmp/hubnlu-bench.lock`). The tracer costs the agent some CPU (a 2 ms timer, one
 * JSON.parse a result): its totals run above bench/e2e's; the split between stages is what it is for.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectClient } from '../test/helpers/mqtt.js';
import { envNameFor } from '../src/config/schema.js';
import { AGENT_NODE_FLAGS, AGENT_ENV } from './agent-settings.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { startAgentProcess } from '../test/helpers/cli.js';
import { CPU_COMPONENTS } from './cpu-components.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const SYNC = arg('sync', 'normal');
const RATE = Number(arg('rate', '1000'));
const LATENCY_N = Number(arg('latency-n', '5000'));
const WARMUP_N = Number(arg('warmup', '2000'));
const WINDOW = 1000;
const SENTENCES = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'lock the front door'];
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Per thread of `pid`: [CPU ns, run-queue wait ns, time slices] from /proc schedstat. */
function schedstat(pid: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const v = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
        out.set(`${name}#${tid}`, v);
      } catch {
        // ended
      }
    }
  } catch {
    // ended
  }
  return out;
}
function schedDelta(label: string, before: Map<string, number[]>, after: Map<string, number[]>, wallMs: number): void {
  const rows = [...after].map(([k, v]) => {
    const b = before.get(k) ?? [0, 0, 0];
    return { thread: `${label} ${k}`, cpuMs: (v[0] - b[0]) / 1e6, waitMs: (v[1] - b[1]) / 1e6, slices: v[2] - b[2] };
  }).filter((r) => r.cpuMs > 1);
  for (const r of rows) console.log(`  ${r.thread.padEnd(36)} CPU ${r.cpuMs.toFixed(0).padStart(6)} ms (${((100 * r.cpuMs) / wallMs).toFixed(0)} %), run-queue wait ${r.waitMs.toFixed(0).padStart(6)} ms, ${r.slices} slices (${((1000 * r.waitMs) / Math.max(1, r.slices)).toFixed(0)} µs a slice)`);
}
const payload = (id: string, i: number) => JSON.stringify({ id, text: SENTENCES[i % SENTENCES.length] });

async function connect(url: string, id: string): Promise<MqttClient> {
  const client = await connectClient(url, { clientId: id, protocolVersion: 5, clean: true });
  (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

type Stage = 'arrived' | 'queued' | 'analyzed' | 'stored' | 'sent' | 'puback';
const STAGES: Stage[] = ['arrived', 'queued', 'analyzed', 'stored', 'sent'];

function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const broker = new Mosquitto({ extraConfig: ['autosave_on_changes false', 'autosave_interval 60', 'set_tcp_nodelay true'] });
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-trace-'));
  const traceFile = join(dir, 'trace.json');
  const env: Record<string, string> = Object.fromEntries(
    Object.entries({ 'mqtt.url': broker.url, 'mqtt.clientId': 'hubnlu-trace', 'storage.path': join(dir, 'hubnlu.db'), 'storage.synchronous': SYNC, 'log.level': 'info' }).map(([k, v]) => [
      envNameFor(k),
      v,
    ]),
  );
  // --set key=value (repeatable): any other setting, e.g. --set storage.checkpointThread=false.
  process.argv.forEach((a, i) => {
    if (a !== '--set') return;
    const [k, ...v] = process.argv[i + 1].split('=');
    env[envNameFor(k)] = v.join('=');
  });
  Object.assign(env, AGENT_ENV);
  env.HUBNLU_LATENCY_TRACE = traceFile;
  const agent = startAgentProcess(env, [], [...AGENT_NODE_FLAGS, ...(process.argv.includes('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'] : []), ...(process.env.TRACE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]);
  await agent.ready;
  await sleep(1000);
  const load0 = loadavg()[0];
  const sub = await connect(broker.url, 'trace-sub');
  const pub = await connect(broker.url, 'trace-pub');
  await sub.subscribeAsync('hubnlu/+/result', { qos: 1 });
  const sent = new Map<string, number>();
  const received = new Map<string, number>();
  let got = 0;
  let want = WARMUP_N;
  let done: () => void = () => undefined;
  sub.on('message', (_t, p) => {
    const r = JSON.parse(p.toString()) as { id: string };
    if (sent.has(r.id)) received.set(r.id, now());
    if (++got === want) done();
  });
  // Warm-up flood, WINDOW in flight.
  let wait = new Promise<void>((resolve) => (done = resolve));
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < WARMUP_N) {
        const i = next++;
        await pub.publishAsync(`hubnlu/room${i % 8}/utterance`, payload(`w${i}`, i), { qos: 1 });
      }
    }),
  );
  await wait;
  got = 0;
  want = LATENCY_N;
  wait = new Promise<void>((resolve) => (done = resolve));
  const mosqPid = (broker as unknown as { child?: { pid?: number } }).child?.pid ?? 0;
  const before = [schedstat(agent.child.pid!), schedstat(mosqPid), schedstat(process.pid)];
  const t0 = performance.now();
  for (let i = 0; i < LATENCY_N; ) {
    const due = Math.min(LATENCY_N, Math.floor(((performance.now() - t0) * RATE) / 1000) + 1);
    for (; i < due; i++) {
      const id = `l${i}`;
      sent.set(id, now());
      void pub.publishAsync(`hubnlu/room${i % 8}/utterance`, payload(id, i), { qos: 1 });
    }
    await sleep(1);
  }
  await wait;
  const wallMs = performance.now() - t0;
  const after = [schedstat(agent.child.pid!), schedstat(mosqPid), schedstat(process.pid)];
  const load1 = loadavg()[0];
  await sub.endAsync();
  await pub.endAsync();
  const exited = new Promise((resolve) => agent.child.once('exit', resolve));
  agent.child.kill('SIGTERM');
  await exited;
  await broker.stop();
  const profFile = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const profile = profFile ? (JSON.parse(readFileSync(join(dir, profFile), 'utf8')) as CpuProfile) : undefined;
  const trace = JSON.parse(readFileSync(traceFile, 'utf8')) as {
    monotonicOriginMs: number;
    timeOrigin: number;
    loopDelayMs: { p50: number; p99: number; max: number };
    stalls: Array<[number, number]>;
    gc: Array<[number, number, number]>;
    walPauses?: Array<[number, number, number]>;
    stamps: Record<string, Partial<Record<Stage, number>>>;
  };
  rmSync(dir, { recursive: true, force: true });

  const rows = [...sent.keys()]
    .filter((id) => received.has(id) && trace.stamps[id])
    .map((id) => {
      const s = trace.stamps[id];
      const times = [sent.get(id)!, ...STAGES.map((st) => s[st] ?? NaN), received.get(id)!];
      return { id, total: times[times.length - 1] - times[0], times, puback: s.puback };
    });
  const names = ['publish→arrived', 'arrived→picked', 'picked→analyzed', 'analyzed→stored', 'stored→sent', 'sent→received'];
  const split = (sel: typeof rows) =>
    Object.fromEntries(
      names.map((n, k) => {
        const xs = sel.map((r) => r.times[k + 1] - r.times[k]).sort((a, b) => a - b);
        return [n, { p50: +pct(xs, 50).toFixed(2), p99: +pct(xs, 99).toFixed(2), max: +pct(xs, 100).toFixed(2) }];
      }),
    );
  const totals = rows.map((r) => r.total).sort((a, b) => a - b);
  const slow = rows.filter((r) => r.total >= pct(totals, 99)).sort((a, b) => a.times[0] - b.times[0]);
  const start = rows.length ? Math.min(...rows.map((r) => r.times[0])) : 0;
  const end = rows.length ? Math.max(...rows.map((r) => r.times[rows[0].times.length - 1])) : 0;
  const inPhase = ([t]: [number, ...number[]]) => t >= start && t <= end;
  console.log(
    `synchronous ${SYNC}, ${rows.length} of ${LATENCY_N} traced at ${RATE}/s after ${WARMUP_N} warm-up; p50 / p99 / max ${pct(totals, 50).toFixed(2)} / ${pct(totals, 99).toFixed(2)} / ${pct(totals, 100).toFixed(2)} ms; load ${load0.toFixed(2)} → ${load1.toFixed(2)}`,
  );
  console.log(`agent event-loop delay (whole run) p50 / p99 / max ${trace.loopDelayMs.p50.toFixed(2)} / ${trace.loopDelayMs.p99.toFixed(2)} / ${trace.loopDelayMs.max.toFixed(2)} ms`);
  const stalls = trace.stalls.filter(inPhase);
  const gcs = trace.gc.filter(inPhase);
  console.log(
    `latency phase: ${stalls.length} loop stalls > 3 ms (max ${Math.max(0, ...stalls.map((s) => s[1])).toFixed(1)} ms), ${gcs.length} GC pauses (sum ${gcs.reduce((a, g) => a + g[1], 0).toFixed(1)} ms, max ${Math.max(0, ...gcs.map((g) => g[1])).toFixed(1)} ms)`,
  );
  // The pauses of the agent's commits while the WAL starts over (store/checkpointer.ts), and the slowest 1 % whose commit
  // waited in one (a pause that ended while the message waited to be stored: arrived before its end, stored after it).
  const pauses = (trace.walPauses ?? []).filter(inPhase);
  const pauseMs = pauses.map((p) => p[1]).sort((a, b) => a - b);
  const ckptMs = pauses.filter((p) => p[2] >= 0).map((p) => p[2]).sort((a, b) => a - b);
  const inPause = (r: (typeof rows)[number]) => pauses.some(([t, d]) => r.times[1] < t + d && r.times[4] >= t + d);
  console.log(
    `WAL pauses in the phase: ${pauses.length} (answered ${pauses.filter((p) => p[2] >= 0).length}), p50 / max ${pct(pauseMs, 50).toFixed(1)} / ${pct(pauseMs, 100).toFixed(1)} ms (the thread's checkpoint in them p50 / max ${pct(ckptMs, 50).toFixed(1)} / ${pct(ckptMs, 100).toFixed(1)} ms), ${pauseMs.filter((d) => d >= 10).length} of 10 ms or more; messages that waited in one: ${rows.filter(inPause).length} of all, ${slow.filter(inPause).length} of the slowest 1 %`,
  );
  console.log(`threads during the latency phase (${wallMs.toFixed(0)} ms):`);
  ['agent', 'mosquitto', 'bench'].forEach((label, k) => schedDelta(label, before[k], after[k], wallMs));
  console.log('all messages, ms:');
  console.table(split(rows));
  console.log('slowest 1 %, ms:');
  console.table(split(slow));
  // Which stage each slow message spent most in.
  const worst: Record<string, number> = {};
  for (const r of slow) {
    const gaps = r.times.slice(1).map((t, k) => t - r.times[k]);
    const k = gaps.indexOf(Math.max(...gaps));
    worst[names[k]] = (worst[names[k]] ?? 0) + 1;
  }
  console.log('slowest 1 %, the stage each spent most in:', worst);
  // The agent's long stalls and what overlapped them.
  const big = stalls.filter(([, d]) => d >= Number(arg('stall-ms', '8')));
  console.log(`agent loop stalls >= ${arg('stall-ms', '8')} ms in the phase (start ms +late ms; GC inside as +ms/kind):`);
  console.log(
    big
      .map(([t, d]) => {
        const inside = gcs.filter(([g, gd]) => g < t + d && g + gd > t - 2).map(([, gd, k]) => `${gd.toFixed(1)}/k${k}`);
        return `${(t - start).toFixed(0)}+${d.toFixed(0)}${inside.length ? `[gc ${inside.join(' ')}]` : ''}`;
      })
      .join('  '),
  );
  console.log('slowest 1 % (send time in phase ms, total, stage gaps):');
  for (const r of slow.slice(0, Number(arg('show', '25')))) {
    const gaps = r.times.slice(1).map((t, k) => (t - r.times[k]).toFixed(1));
    console.log(`${(r.times[0] - start).toFixed(0).padStart(6)} ${r.total.toFixed(1).padStart(6)}  [${gaps.join(', ')}]`);
  }
  if (profile) {
    // Profile timestamps are CLOCK_MONOTONIC µs; the trace's are epoch ms.
    const toEpoch = (us: number) => us / 1000 - trace.monotonicOriginMs + trace.timeOrigin;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const label = (id: number) => {
      const f = byId.get(id)!.callFrame;
      return `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(node_modules\/[^/]+|src|dist)\//, '$1/')}:${f.lineNumber + 1}`;
    };
    const samples: Array<[number, number]> = [];
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas[i] ?? 0;
      samples.push([toEpoch(t), id]);
    });
    const top = (from: number, to: number, n: number) => {
      const self = new Map<string, number>();
      let prev = from;
      let total = 0;
      for (const [at, id] of samples) {
        if (at < from || at > to) continue;
        const dt = at - prev;
        prev = at;
        const l = label(id);
        if (l.startsWith('(idle)')) continue;
        self.set(l, (self.get(l) ?? 0) + dt);
        total += dt;
      }
      return { total, top: [...self].sort((a, b) => b[1] - a[1]).slice(0, n) };
    };
    // The main thread's time in the phase by component: each sample goes to the innermost frame that names one (as bench/e2e splits the flood).
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const COMPONENTS = [...CPU_COMPONENTS, ['trace', /\/src\/agent\/latency-trace\.js|^node:internal\/perf\//] as const];
    const memo = new Map<number, string>();
    const componentOf = (id: number): string => {
      const known = memo.get(id);
      if (known !== undefined) return known;
      const f = byId.get(id)!.callFrame;
      const key = f.url || f.functionName;
      let c = COMPONENTS.find(([, re]) => re.test(key))?.[0];
      if (!c) {
        const p = parent.get(id);
        c = p === undefined ? 'other' : componentOf(p);
      }
      memo.set(id, c);
      return c;
    };
    const byComponent = new Map<string, number>();
    let prevAt = start;
    for (const [at, id] of samples) {
      if (at < start || at > end) continue;
      const dt = at - prevAt;
      prevAt = at;
      if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
      const c = componentOf(id);
      byComponent.set(c, (byComponent.get(c) ?? 0) + dt);
    }
    console.log(
      `main thread by component, ms a message: ${[...byComponent].sort((a, b) => b[1] - a[1]).map(([c, ms]) => `${c} ${(ms / rows.length).toFixed(3)}`).join(', ')}`,
    );
    const phase = top(start, end, 30);
    console.log(`main thread busy ${phase.total.toFixed(0)} ms of ${(end - start).toFixed(0)} ms in the latency phase; self time by function:`);
    for (const [l, ms] of phase.top) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${l}`);
    console.log('inside the 15 longest stalls:');
    for (const [at, d] of [...stalls].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      const w = top(at - 2, at + d, 4);
      console.log(`  ${(at - start).toFixed(0)}+${d.toFixed(0)} ms (busy ${w.total.toFixed(1)}): ${w.top.map(([l, ms]) => `${l} ${ms.toFixed(1)}`).join(' | ')}`);
    }
  }
  const out = arg('json', '');
  if (out) writeFileSync(out, JSON.stringify({ rows, stalls, gc: gcs, start }));
}

await main();
