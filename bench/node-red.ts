/**
 * A real client: examples/node-red/flow.json loaded into a real Node-RED and
 * driven end to end against a real `hubnlu run` (its embedded broker on a free
 * port). Node-RED is not a dependency of hubnlu (it would add about 240
 * packages to `npm ci`; README, "Node-RED"), so this script installs it into
 * `.cache/node-red` on first use (or uses `--node-red <dir>` / NODE_RED_HOME).
 *
 *   npm run build && node dist/bench/node-red.js [--node-red <dir>]
 *
 * Checks, each against the action topic the flow publishes to:
 *  1. POST /inject/say_kitchen_off ("turn off the kitchen lights") → home/kitchen/light/set {state: OFF}
 *  2. an utterance published on hubnlu/bedroom/utterance → home/bedroom/light/set {state: ON}
 *  3. POST /inject/say_living_blue → home/living_room/light/set {state: ON, color: blue}
 *  4. a weather question → a result, and no light command
 * Prints a table, writes bench/results/node-red.json, exits 1 if a check fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { envNameFor } from '../src/config/schema.js';
import { REPO_ROOT, startAgentProcess } from '../test/helpers/cli.js';
import { Recorder } from '../test/helpers/mqtt.js';
import { freePort, sleep, waitFor } from '../test/helpers/net.js';

/** Node-RED 5 needs Node 22.9; hubnlu supports Node 20, so the 4.x line it is. */
const NODE_RED_VERSION = '4.1.8';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function nodeRedHome(): string {
  const dir = resolve(arg('--node-red') ?? process.env.NODE_RED_HOME ?? join(REPO_ROOT, '.cache', 'node-red'));
  const red = join(dir, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(red)) {
    console.log(`installing node-red@${NODE_RED_VERSION} into ${dir} …`);
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `node-red@${NODE_RED_VERSION}`], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(red)) throw new Error(`npm install node-red@${NODE_RED_VERSION} failed (status ${r.status}); install it yourself and pass --node-red <dir>`);
  }
  return dir;
}

async function startNodeRed(home: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const userDir = mkdtempSync(join(tmpdir(), 'hubnlu-nodered-'));
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = ${JSON.stringify({ uiPort: port, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'warn' } } })};\n`,
  );
  const red = join(home, 'node_modules', 'node-red', 'red.js');
  const child = spawn(process.execPath, [red, '--userDir', userDir, '--settings', join(userDir, 'settings.js'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const up = await waitFor(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/flows`)).ok;
    } catch {
      return false;
    }
  }, 60_000, 200);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`Node-RED did not answer on port ${port} within 60 s:\n${output}`);
  }
  return { child, output: () => output };
}

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number | null;
  readonly detail: string;
}

async function main(): Promise<void> {
  const home = nodeRedHome();
  const brokerPort = await freePort();
  const redPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'hubnlu-nodered-agent-'));
  const env = Object.fromEntries(
    Object.entries({ 'mqtt.embedded.port': brokerPort, 'storage.path': join(dataDir, 'hubnlu.db'), 'log.level': 'warn' }).map(([k, v]) => [envNameFor(k), String(v)]),
  );
  const agent = startAgentProcess({ ...env, HUBNLU_LOG_LEVEL: 'info' });
  await agent.ready;
  const url = `mqtt://127.0.0.1:${brokerPort}`;
  const watch = await Recorder.connect(url, ['home/+/light/set', 'nodered/hubnlu-example/status', 'hubnlu/+/result']);
  const red = await startNodeRed(home, redPort);
  const checks: Check[] = [];
  try {
    // The example as shipped, pointed at this run's broker.
    const flow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'node-red', 'flow.json'), 'utf8')) as Array<Record<string, unknown>>;
    for (const node of flow) if (node.type === 'mqtt-broker') Object.assign(node, { broker: '127.0.0.1', port: String(brokerPort) });
    const deployed = await fetch(`http://127.0.0.1:${redPort}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    if (!deployed.ok) throw new Error(`POST /flows answered ${deployed.status}: ${await deployed.text()}`);
    // The flow's broker node announces itself (birth message) once connected; its subscription follows the connect.
    if (!(await waitFor(() => watch.messages.some((m) => m.topic === 'nodered/hubnlu-example/status'), 30_000))) {
      throw new Error(`the flow's MQTT broker node did not connect within 30 s:\n${red.output()}`);
    }
    await sleep(500);

    const command = async (name: string, trigger: () => Promise<void>, topic: string, want: Record<string, unknown>): Promise<void> => {
      const from = watch.messages.length;
      const t0 = performance.now();
      await trigger();
      const got = await waitFor(() => watch.messages.slice(from).some((m) => m.topic === topic), 10_000, 5);
      const ms = performance.now() - t0;
      const msg = watch.messages.slice(from).find((m) => m.topic === topic);
      const payload = msg ? (JSON.parse(msg.payload.toString()) as Record<string, unknown>) : undefined;
      const ok = got && payload !== undefined && Object.entries(want).every(([k, v]) => payload[k] === v);
      checks.push({ name, ok, ms: got ? ms : null, detail: payload ? `${topic} ${JSON.stringify(payload)}` : `nothing on ${topic} within 10 s` });
    };
    const inject = (id: string) => async () => {
      const r = await fetch(`http://127.0.0.1:${redPort}/inject/${id}`, { method: 'POST' });
      if (!r.ok) throw new Error(`POST /inject/${id} answered ${r.status}`);
    };

    await command('inject "turn off the kitchen lights"', inject('say_kitchen_off'), 'home/kitchen/light/set', { state: 'OFF', source: 'hubnlu' });
    await command(
      'MQTT utterance "turn on the bedroom lights"',
      () => watch.publish('hubnlu/bedroom/utterance', 'turn on the bedroom lights'),
      'home/bedroom/light/set',
      { state: 'ON' },
    );
    await command('inject "make the living room lights blue"', inject('say_living_blue'), 'home/living_room/light/set', { state: 'ON', color: 'blue' });

    // Not a light intent: hubnlu answers, the switch routes it nowhere.
    const from = watch.messages.length;
    await watch.publish('hubnlu/study/utterance', JSON.stringify({ text: 'what is the weather tomorrow', id: 'nr-weather' }));
    const answered = await waitFor(() => watch.messages.slice(from).some((m) => m.topic === 'hubnlu/study/result'), 10_000);
    await sleep(1000);
    const stray = watch.messages.slice(from).filter((m) => m.topic.startsWith('home/'));
    const intent = answered ? (JSON.parse(watch.messages.slice(from).find((m) => m.topic === 'hubnlu/study/result')!.payload.toString()).intent?.name as string) : '-';
    checks.push({ name: 'weather question: no light command', ok: answered && stray.length === 0, ms: null, detail: `intent ${intent}; ${stray.length} command(s)` });
  } finally {
    await watch.close();
    red.child.kill('SIGTERM');
    agent.child.kill('SIGTERM');
    await agent.exited;
  }

  console.log(`\nNode-RED ${NODE_RED_VERSION} + hubnlu (embedded broker), examples/node-red/flow.json\n`);
  console.log('| check | ok | trigger → command (ms) | seen |');
  console.log('|---|---|---|---|');
  for (const c of checks) console.log(`| ${c.name} | ${c.ok ? 'yes' : 'NO'} | ${c.ms === null ? '-' : c.ms.toFixed(1)} | ${c.detail} |`);
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(REPO_ROOT, 'bench', 'results', 'node-red.json'), JSON.stringify({ nodeRed: NODE_RED_VERSION, node: process.version, checks }, null, 2) + '\n');
  if (!checks.every((c) => c.ok)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
