/**
 * A real mosquitto broker for cross-broker and fault tests: started on a free
 * port with persistence on, killable and restartable on the same port and data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort, sleep } from './net.js';

export function mosquittoPath(): string | undefined {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    const r = spawnSync(candidate, ['-h'], { stdio: 'ignore' });
    if (r.error === undefined) return candidate;
  }
  return undefined;
}

export interface MosquittoOptions {
  /** Replaces the plain anonymous listener (e.g. TLS and password settings). */
  readonly listener?: (port: number) => string[];
  /** Extra mosquitto.conf lines, appended (a later line overrides an earlier one), e.g. lighter autosave settings. */
  readonly extraConfig?: readonly string[];
}

export class Mosquitto {
  private child?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'hubnlu-mosq-'));
  port = 0;

  constructor(private readonly options: MosquittoOptions = {}) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const bin = mosquittoPath();
    if (!bin) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
    if (this.port === 0) this.port = await freePort();
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        ...(this.options.listener ? this.options.listener(this.port) : [`listener ${this.port} 127.0.0.1`, 'allow_anonymous true']),
        // As root, mosquitto drops to the `mosquitto` user, which cannot write this owner-only temp dir: persistence
        // would fail silently (sessions and queued messages lost on restart). Stay root instead.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'persistence true',
        `persistence_location ${this.dir}/`,
        'autosave_interval 1',
        'autosave_on_changes true',
        'max_queued_messages 0', // unlimited: the fault tests queue thousands of inputs while the agent is down
        'max_inflight_messages 0',
        'log_dest none',
        ...(this.options.extraConfig ?? []),
      ].join('\n') + '\n',
    );
    this.child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 5000;
    while (!(await canConnect(this.port))) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`mosquitto did not start: ${stderr}`);
      await sleep(25);
    }
  }

  /** SIGKILL: no chance to save state beyond what autosave wrote. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
