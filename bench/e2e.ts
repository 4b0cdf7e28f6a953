/**
 * End-to-end numbers through a real mosquitto broker and a real `hubnlu run`
 * process with logging on: cold start, QoS 1 throughput (as a share of what the
 * broker alone echoes on this machine), latency, and resident memory.
 *
 *   npm run build && node dist/bench/e2e.js [--n 2000]
 *
 * Prints a table and writes bench/results/e2e.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { envNameFor } from '../src/config/schema.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { startAgentProcess, REPO_ROOT } from '../test/helpers/cli.js';

const N = Number(process.argv[process.argv.indexOf('--n') + 1]) || 2000;
const WINDOW = 200; // publishes in flight at once, like a busy automation

async function connect(url: string, id: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: id, protocolVersion: 5, clean: true });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

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

/** The broker's own limit here: publisher → mosquitto → subscriber, QoS 1, no agent. */
async function brokerEcho(url: string): Promise<{ msgsPerSec: number }> {
  const sub = await connect(url, 'bench-echo-sub');
  const pub = await connect(url, 'bench-echo-pub');
  let got = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  sub.on('message', () => {
    if (++got === N) resolveDone();
  });
  await sub.subscribeAsync('echo/+/in', { qos: 1 });
  const t0 = performance.now();
  await publishAll(pub, N, (i) => `echo/s${i % 8}/in`, (i) => JSON.stringify({ id: `e${i}`, text: 'turn off the kitchen lights' }));
  await done;
  const seconds = (performance.now() - t0) / 1000;
  await sub.endAsync();
  await pub.endAsync();
  return { msgsPerSec: N / seconds };
}

interface AgentRun {
  synchronous: string;
  coldStartMs: number;
  msgsPerSec: number;
  endToEndMs: { p50: number; p99: number };
  idleRoundTripMs: { p50: number; p99: number };
  agentLatencyMs: { p50: number; p99: number };
  rssMb: number;
}

async function agentRun(url: string, synchronous: 'full' | 'normal'): Promise<AgentRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-bench-'));
  const env = Object.fromEntries(
    Object.entries({
      'mqtt.url': url,
      'mqtt.clientId': `hubnlu-bench-${synchronous}`,
      'storage.path': join(dir, 'hubnlu.db'),
      'storage.synchronous': synchronous,
      'log.level': 'warn',
    }).map(([k, v]) => [envNameFor(k), v]),
  );
  env[envNameFor('log.level')] = 'info'; // the ready line is at info
  const t0 = performance.now();
  const agent = startAgentProcess(env);
  await agent.ready;
  const coldStartMs = performance.now() - t0;

  const sub = await connect(url, `bench-sub-${synchronous}`);
  const pub = await connect(url, `bench-pub-${synchronous}`);
  const sentAt = new Map<string, number>();
  const e2e: number[] = [];
  const agentLatency: number[] = [];
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  sub.on('message', (_topic, payload) => {
    const r = JSON.parse(payload.toString()) as { id: string; latencyMs: number };
    const start = sentAt.get(r.id);
    if (start === undefined) return;
    e2e.push(performance.now() - start);
    agentLatency.push(r.latencyMs);
    sentAt.delete(r.id);
    if (e2e.length === N) resolveDone();
  });
  await sub.subscribeAsync('hubnlu/+/result', { qos: 1 });
  const sentences = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'lock the front door'];
  const t1 = performance.now();
  await publishAll(
    pub,
    N,
    (i) => `hubnlu/room${i % 8}/utterance`,
    (i) => {
      sentAt.set(`b${i}`, performance.now());
      return JSON.stringify({ id: `b${i}`, text: sentences[i % sentences.length] });
    },
  );
  await done;
  const seconds = (performance.now() - t1) / 1000;

  // One at a time, as a household speaks: publish, wait for the answer, repeat.
  const idle: number[] = [];
  for (let i = 0; i < 200; i++) {
    const id = `q${i}`;
    const answered = new Promise<void>((resolve) => {
      const onMessage = (_t: string, payload: Buffer) => {
        if ((JSON.parse(payload.toString()) as { id: string }).id !== id) return;
        sub.off('message', onMessage);
        resolve();
      };
      sub.on('message', onMessage);
    });
    const start = performance.now();
    await pub.publishAsync('hubnlu/kitchen/utterance', JSON.stringify({ id, text: sentences[i % sentences.length] }), { qos: 1 });
    await answered;
    idle.push(performance.now() - start);
  }
  idle.sort((a, b) => a - b);
  const status = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  await sub.endAsync();
  await pub.endAsync();
  agent.child.kill('SIGTERM');
  await agent.exited;
  e2e.sort((a, b) => a - b);
  agentLatency.sort((a, b) => a - b);
  return {
    synchronous,
    coldStartMs,
    msgsPerSec: N / seconds,
    endToEndMs: { p50: percentile(e2e, 50), p99: percentile(e2e, 99) },
    idleRoundTripMs: { p50: percentile(idle, 50), p99: percentile(idle, 99) },
    agentLatencyMs: { p50: percentile(agentLatency, 50), p99: percentile(agentLatency, 99) },
    rssMb: rssKb / 1024,
  };
}

async function main(): Promise<void> {
  const broker = new Mosquitto();
  await broker.start();
  try {
    const echo = await brokerEcho(broker.url);
    const runs: AgentRun[] = [];
    for (const sync of ['normal', 'full'] as const) runs.push(await agentRun(broker.url, sync));
    const rows = runs.map((r) => ({
      'storage.synchronous': r.synchronous,
      'msgs/s': r.msgsPerSec.toFixed(0),
      'share of broker echo': `${((100 * r.msgsPerSec) / echo.msgsPerSec).toFixed(0)}%`,
      'round trip p50 ms (one at a time)': r.idleRoundTripMs.p50.toFixed(2),
      'round trip p99 ms (one at a time)': r.idleRoundTripMs.p99.toFixed(2),
      'p99 ms under flood': r.endToEndMs.p99.toFixed(0),
      'cold start ms': r.coldStartMs.toFixed(0),
      'RSS MB': r.rssMb.toFixed(0),
    }));
    console.log(`QoS 1 through mosquitto, ${N} inputs, ${WINDOW} in flight; broker echo alone: ${echo.msgsPerSec.toFixed(0)} msgs/s`);
    console.table(rows);
    const out = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'e2e.json'),
      JSON.stringify({ measuredAt: new Date().toISOString(), n: N, window: WINDOW, brokerEcho: echo, runs }, null, 2) + '\n',
    );
  } finally {
    await broker.stop();
  }
}

await main();
