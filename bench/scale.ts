/**
 * Scale-out through MQTT 5 shared subscriptions: 1, 2 and 4 real `hubnlu run` processes in one share group
 * (`input.shareGroup`), each with its own client id and database, on one mosquitto. For each group size: QoS 1
 * results per second with logging on, how the inputs were split, and that each was answered exactly once.
 *
 *   npm run bench:scale            (node dist/bench/scale.js [--n 4000] [--agents 1,2,4] [--sync normal|full])
 *
 * Every agent, the broker and this driver share the machine's cores: on a machine with fewer cores than agents the
 * numbers show the CPU limit, not the group's. Prints a table and writes bench/results/scale.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { LIGHT_BROKER_PERSISTENCE, Publisher, Tally, utteranceStream } from '../test/helpers/delivery.js';
import { groupRows, startGroup } from '../test/helpers/share-group.js';
import { REPO_ROOT } from '../test/helpers/cli.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const N = Number(arg('n', '4000'));
const AGENTS = arg('agents', '1,2,4').split(',').map(Number);
const SYNC = arg('sync', 'normal');
const WINDOW = 200;

interface Run {
  agents: number;
  inputs: number;
  seconds: number;
  resultsPerSec: number;
  speedup: number;
  perAgent: number[];
  duplicates: number;
  missing: number;
  doubleRows: number;
  loadAvg1m: number;
}

async function runGroup(broker: Mosquitto, agents: number): Promise<Omit<Run, 'speedup'>> {
  const dir = mkdtempSync(join(tmpdir(), `hubnlu-bench-scale-${agents}-`));
  const members = await startGroup(broker.url, dir, `bench-${agents}-${process.pid}`, agents, 'bench', { 'storage.synchronous': SYNC });
  const tally = await Tally.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { clientId: `bench-tally-${agents}` });
  const publisher = await Publisher.connect(broker.url, { clientId: `bench-pub-${agents}` });
  try {
    const items = utteranceStream(`s${agents}`, N);
    const t0 = performance.now();
    const publishing = publisher.publishAll(items, { window: WINDOW });
    await tally.settle(() => tally.results.size >= N, { timeoutMs: 600_000, quietMs: 60_000 });
    const seconds = (performance.now() - t0) / 1000;
    await publishing;
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(members.map((m) => m.agent.stop()));
    const rows = groupRows(members);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    return {
      agents,
      inputs: N,
      seconds: Number(seconds.toFixed(2)),
      resultsPerSec: Math.round(tally.results.size / seconds),
      perAgent: members.map((m) => rows.filter((r) => r.member === m.name).length),
      duplicates: tally.resultDuplicates,
      missing: items.filter((i) => !tally.results.has(i.key)).length,
      doubleRows: [...counts.values()].filter((c) => c > 1).length,
      loadAvg1m: Number(loadavg()[0].toFixed(1)),
    };
  } finally {
    await Promise.all(members.map((m) => m.agent.kill('SIGKILL')));
    await tally.close();
    await publisher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs: Run[] = [];
for (const agents of AGENTS) {
  // A fresh broker per group size: a stopped agent's persistent session stays a member of its share group, and
  // mosquitto would keep routing a share of the next run's inputs to it (see README, Scale out: retiring a member).
  const broker = new Mosquitto({ extraConfig: LIGHT_BROKER_PERSISTENCE });
  await broker.start();
  try {
    const r = await runGroup(broker, agents);
    runs.push({ ...r, speedup: Number((r.resultsPerSec / (runs[0]?.resultsPerSec ?? r.resultsPerSec)).toFixed(2)) });
    console.error(`${agents} agent(s): ${r.resultsPerSec} results/s`);
  } finally {
    await broker.stop();
    rmSync(broker.dir, { recursive: true, force: true });
  }
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, storageSynchronous: SYNC, window: WINDOW };
console.log(`\nShared-subscription scale-out: ${N} QoS 1 inputs per run, ${WINDOW} in flight, storage.synchronous: ${SYNC}; ${machine.cpus} CPU cores (${machine.cpuModel})\n`);
console.log('| agents | results/s | vs 1 agent | inputs per agent | repeated results | missing | inputs stored twice | load avg (1 min) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of runs) {
  console.log(`| ${r.agents} | ${r.resultsPerSec} | ${r.speedup}× | ${r.perAgent.join(' / ')} | ${r.duplicates} | ${r.missing} | ${r.doubleRows} | ${r.loadAvg1m} |`);
}
const out = { machine, at: new Date().toISOString(), runs };
mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(REPO_ROOT, 'bench', 'results', 'scale.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out));
