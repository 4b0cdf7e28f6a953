/**
 * Where an idle `hubnlu run` keeps its memory (issue 10: RSS ≤ 100 MB idle with both shipped models loaded).
 *
 *   npm run bench:memory [-- --runs 3] [--embedded] [--trace] [--snapshot] [--wait-ms 1000] [--flags "--v8-pool-size=1"] [--env K=V,K2=V2]
 *
 * Starts the agent as `bench/e2e` does (same node flags and environment as the systemd unit and `npm start`,
 * `storage.synchronous: normal`, `log.level: info`) against a mosquitto on loopback, or with `--embedded` on its
 * embedded broker (aedes, on a free port), and `--wait-ms` (default 1000, bench/e2e's point) after the ready line
 * reads VmRSS, RssAnon and RssFile from /proc/<pid>/status and the resident pages of each mapping from
 * /proc/<pid>/smaps (file-backed by file, anonymous by kind). Each run is a fresh agent; the table gives each run.
 *
 * `--trace` runs one more agent with bench/memory-trace.js preloaded: which modules it loads (by package) and its
 * `process.memoryUsage()` and V8 heap spaces. Its RSS is not comparable (the loader hook has its own thread).
 * `--snapshot` writes a heap snapshot of one more idle agent and prints its largest constructors by self size.
 * Writes nothing to bench/results; prints the numbers (JSON with `--json`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNameFor } from '../src/config/schema.js';
import { AGENT_NODE_FLAGS, AGENT_ENV } from './agent-settings.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { startAgentProcess, REPO_ROOT, type AgentProcess } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/net.js';


function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}
const RUNS = argValue('runs', 3);
const WAIT_MS = argValue('wait-ms', 1000);
const EMBEDDED = process.argv.includes('--embedded');
const TRACE = process.argv.includes('--trace');
const SNAPSHOT = process.argv.includes('--snapshot');
const JSON_OUT = process.argv.includes('--json');
function argString(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
/** Extra node flags and environment for the agent, to compare against the shipped ones. */
const EXTRA_FLAGS = (argString('flags') ?? '').split(' ').filter(Boolean);
const EXTRA_ENV = Object.fromEntries((argString('env') ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kb: number) => kb / 1024;

export interface StatusRss {
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly shmem: number;
}

/** VmRSS, RssAnon, RssFile, RssShmem in MB. */
export function statusRss(pid: number): StatusRss {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: mb(kb('VmRSS')), anon: mb(kb('RssAnon')), file: mb(kb('RssFile')), shmem: mb(kb('RssShmem')) };
}

/** Resident MB per mapping: file-backed by file name, anonymous ones as `[heap]`, `[stack]` or `[anon]`. */
export function smapsByMapping(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1].trim();
      name = path === '' ? '[anon]' : path.startsWith('[stack') ? '[stack]' : path.startsWith('[anon') ? '[anon]' : path;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[name] = (out[name] ?? 0) + mb(Number(rss[1]));
  }
  return out;
}

/** The mapping names grouped as the README's table does. */
function grouped(byMapping: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(byMapping)) {
    const key =
      name === '[heap]' || name === '[anon]' || name === '[stack]'
        ? name
        : name === process.execPath || name.endsWith('/bin/node')
          ? 'node binary'
          : name.includes('libonnxruntime')
            ? 'libonnxruntime.so'
            : name.includes('onnxruntime_binding')
              ? 'onnxruntime binding'
              : name.endsWith('.node')
                ? 'other addons (.node)'
                : name.includes('.so')
                  ? 'system libraries (.so)'
                  : name.startsWith('/') ? 'other files (models, databases, ...)' : name;
    out[key] = (out[key] ?? 0) + v;
  }
  return out;
}

interface Started {
  readonly proc: AgentProcess;
  readonly coldStartMs: number;
  /** CPU time (user + system, all threads) the agent spent until its ready line: start-up cost, less load-sensitive than wall time. */
  readonly startCpuMs: number;
  readonly dir: string;
}

/** User + system CPU ms of a process, all threads (/proc/<pid>/stat fields 14 and 15; USER_HZ 100). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function start(brokerUrl: string | undefined, nodeArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-mem-'));
  const settings: Record<string, string> = {
    'mqtt.clientId': 'hubnlu-mem',
    'storage.path': join(dir, 'hubnlu.db'),
    'storage.synchronous': 'normal',
    'log.level': 'info',
  };
  if (brokerUrl) settings['mqtt.url'] = brokerUrl;
  else settings['mqtt.embedded.port'] = String(await freePort());
  const env = { ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [envNameFor(k), v])), ...AGENT_ENV, ...EXTRA_ENV, ...extraEnv };
  const t0 = performance.now();
  const proc = startAgentProcess(env, [], [...AGENT_NODE_FLAGS, ...EXTRA_FLAGS, ...nodeArgs]);
  await proc.ready;
  return { proc, coldStartMs: performance.now() - t0, startCpuMs: cpuMs(proc.child.pid!), dir };
}

async function stop(s: Started): Promise<void> {
  s.proc.child.kill('SIGTERM');
  await s.proc.exited;
  rmSync(s.dir, { recursive: true, force: true });
}

interface RunResult {
  readonly coldStartMs: number;
  readonly startCpuMs: number;
  readonly status: StatusRss;
  readonly groups: Record<string, number>;
  readonly top: Array<[string, number]>;
}

async function oneRun(url: string | undefined): Promise<RunResult> {
  const s = await start(url);
  try {
    await sleep(WAIT_MS);
    const pid = s.proc.child.pid!;
    const byMapping = smapsByMapping(pid);
    const status = statusRss(pid);
    const top = Object.entries(byMapping)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, v]) => [k.replace(REPO_ROOT, '.'), v] as [string, number]);
    return { coldStartMs: s.coldStartMs, startCpuMs: s.startCpuMs, status, groups: grouped(byMapping), top };
  } finally {
    await stop(s);
  }
}

/** The package a module URL or path belongs to (`hubnlu` for the project's own). */
function packageOf(spec: string): string {
  const path = spec.replace(/^file:\/\//, '');
  if (path.startsWith('node:')) return 'node:*';
  const i = path.lastIndexOf('/node_modules/');
  if (i < 0) return path.startsWith(REPO_ROOT) ? 'hubnlu' : path;
  const rest = path.slice(i + '/node_modules/'.length).split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

interface TraceResult {
  readonly memoryUsage: Record<string, number>;
  readonly heapSpaces: Array<{ name: string; size: number; used: number }>;
  readonly modulesByPackage: Record<string, number>;
  readonly modules: number;
}

async function trace(url: string | undefined): Promise<TraceResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-trace-'));
  const file = join(dir, 'trace.json');
  const s = await start(url, ['--import', join(REPO_ROOT, 'dist', 'bench', 'memory-trace.js')], { HUBNLU_MEMORY_TRACE: file });
  try {
    await sleep(WAIT_MS);
    s.proc.child.kill('SIGUSR2');
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      try {
        if (statSync(file).size > 0) break;
      } catch {
        // not yet written
      }
    }
    const t = JSON.parse(readFileSync(file, 'utf8')) as { memoryUsage: Record<string, number>; heapSpaces: TraceResult['heapSpaces']; esm: string[]; cjs: string[] };
    const all = new Set([...t.esm.filter((u) => u.startsWith('file:')).map((u) => decodeURIComponent(u.slice(7))), ...t.cjs]);
    const byPackage: Record<string, number> = {};
    for (const m of all) byPackage[packageOf(m)] = (byPackage[packageOf(m)] ?? 0) + 1;
    return { memoryUsage: t.memoryUsage, heapSpaces: t.heapSpaces, modulesByPackage: byPackage, modules: all.size };
  } finally {
    await stop(s);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Self size by node type and name (constructor, or `(string)` etc.) of a V8 heap snapshot, largest first. */
function snapshotSummary(file: string): Array<[string, number, number]> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [ti, ni, si] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const acc = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + ti]];
    const key = type === 'object' || type === 'native' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + ni]]}` : `(${type})`;
    const a = acc.get(key) ?? [0, 0];
    a[0] += snap.nodes[i + si];
    a[1] += 1;
    acc.set(key, a);
  }
  return [...acc.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 25).map(([k, [size, count]]) => [k, size / 1048576, count]);
}

async function snapshot(url: string | undefined): Promise<Array<[string, number, number]>> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-snap-'));
  const s = await start(url, ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`]);
  try {
    await sleep(WAIT_MS);
    s.proc.child.kill('SIGUSR2');
    let file: string | undefined;
    for (let i = 0; i < 200 && !file; i++) {
      await sleep(100);
      const f = readdirSync(dir).find((n) => n.endsWith('.heapsnapshot'));
      // Written in one go; wait for the size to settle.
      if (f) {
        const a = statSync(join(dir, f)).size;
        await sleep(300);
        if (a > 0 && statSync(join(dir, f)).size === a) file = join(dir, f);
      }
    }
    if (!file) throw new Error('no heap snapshot written');
    return snapshotSummary(file);
  } finally {
    await stop(s);
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (v: number) => v.toFixed(1);

async function main(): Promise<void> {
  const broker = EMBEDDED ? undefined : new Mosquitto({ extraConfig: ['set_tcp_nodelay true'] });
  await broker?.start();
  const loadBefore = loadavg()[0];
  const runs: RunResult[] = [];
  let traced: TraceResult | undefined;
  let snap: Array<[string, number, number]> | undefined;
  try {
    for (let i = 0; i < RUNS; i++) runs.push(await oneRun(broker?.url));
    if (TRACE) traced = await trace(broker?.url);
    if (SNAPSHOT) snap = await snapshot(broker?.url);
  } finally {
    await broker?.stop();
  }
  const loadAfter = loadavg()[0];
  if (JSON_OUT) {
    console.log(JSON.stringify({ broker: EMBEDDED ? 'embedded' : 'mosquitto', waitMs: WAIT_MS, load: [loadBefore, loadAfter], runs, trace: traced, snapshot: snap }, null, 1));
    return;
  }
  console.log(`hubnlu run idle, ${EMBEDDED ? 'embedded broker' : 'mosquitto on loopback'}${EXTRA_FLAGS.length || Object.keys(EXTRA_ENV).length ? ` (extra: ${[...EXTRA_FLAGS, ...Object.entries(EXTRA_ENV).map(([k, v]) => `${k}=${v}`)].join(' ')})` : ''}, ${WAIT_MS} ms after ready, ${new Date().toISOString()}, load ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`);
  console.log(`cold start ms:   ${runs.map((r) => r.coldStartMs.toFixed(0)).join(' / ')} (CPU to ready: ${runs.map((r) => r.startCpuMs.toFixed(0)).join(' / ')} ms)`);
  console.log(`VmRSS MB:        ${runs.map((r) => fmt(r.status.rss)).join(' / ')}`);
  console.log(`  RssAnon:       ${runs.map((r) => fmt(r.status.anon)).join(' / ')}`);
  console.log(`  RssFile:       ${runs.map((r) => fmt(r.status.file)).join(' / ')}`);
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.groups)))].sort((a, b) => (runs[0].groups[b] ?? 0) - (runs[0].groups[a] ?? 0));
  console.log('resident MB by mapping (smaps):');
  for (const k of keys) console.log(`  ${k.padEnd(38)} ${runs.map((r) => fmt(r.groups[k] ?? 0)).join(' / ')}`);
  console.log('largest mappings (first run):');
  for (const [k, v] of runs[0]?.top ?? []) console.log(`  ${fmt(v).padStart(6)}  ${k}`);
  if (traced) {
    const u = traced.memoryUsage;
    console.log(`traced agent (RSS not comparable): heapUsed ${fmt(u.heapUsed / 1048576)} / heapTotal ${fmt(u.heapTotal / 1048576)} MB, external ${fmt(u.external / 1048576)}, arrayBuffers ${fmt(u.arrayBuffers / 1048576)}`);
    console.log(`  heap spaces (used / size MB): ${traced.heapSpaces.filter((s) => s.size > 0).map((s) => `${s.name} ${fmt(s.used / 1048576)}/${fmt(s.size / 1048576)}`).join(', ')}`);
    console.log(`  ${traced.modules} modules: ${Object.entries(traced.modulesByPackage).sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p} ${n}`).join(', ')}`);
  }
  if (snap) {
    console.log('heap snapshot, largest by self size (MB, count):');
    for (const [k, size, count] of snap) console.log(`  ${fmt(size).padStart(6)}  ${String(count).padStart(7)}  ${k}`);
  }
}

if (process.argv[1]?.endsWith('memory.js')) await main();
