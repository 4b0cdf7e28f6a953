/**
 * A real `hubnlu run` process for the fault tests: configured through the
 * `HUBNLU_*` environment variables the schema derives, killable with any
 * signal, restartable on the same database and client id, with its JSON log
 * lines parsed and its resident memory readable from /proc.
 */
import { readFileSync } from 'node:fs';
import { envNameFor } from '../../src/config/schema.js';
import { startAgentProcess, type AgentProcess } from './cli.js';
import { sleep } from './net.js';

export interface AgentSettings {
  readonly brokerUrl: string;
  readonly dbPath: string;
  readonly clientId: string;
  /** Any other setting by its path, e.g. `{ 'input.maxInFlight': 64 }`. */
  readonly settings?: Record<string, string | number | boolean>;
}

/** The environment `hubnlu run` reads its configuration from. */
export function agentEnv(s: AgentSettings): Record<string, string> {
  const values: Record<string, string | number | boolean> = {
    'mqtt.url': s.brokerUrl,
    'mqtt.clientId': s.clientId,
    'storage.path': s.dbPath,
    'log.level': 'info',
    ...s.settings,
  };
  return Object.fromEntries(Object.entries(values).map(([path, value]) => [envNameFor(path), String(value)]));
}

export type LogLine = Record<string, unknown>;

export class FaultAgent {
  private constructor(
    private readonly proc: AgentProcess,
    readonly startup: LogLine,
  ) {}

  static async start(settings: AgentSettings, timeoutMs = 30_000): Promise<FaultAgent> {
    const proc = startAgentProcess(agentEnv(settings));
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`agent not ready within ${timeoutMs} ms`)), timeoutMs).unref());
    try {
      const line = await Promise.race([proc.ready, timer]);
      return new FaultAgent(proc, line);
    } catch (err) {
      proc.child.kill('SIGKILL');
      throw err;
    }
  }

  get pid(): number {
    return this.proc.child.pid!;
  }

  get alive(): boolean {
    return this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  get logs(): readonly LogLine[] {
    return this.proc.logs;
  }

  /** Log lines whose `msg` starts with `prefix`. */
  logged(prefix: string): LogLine[] {
    return this.proc.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));
  }

  async waitForLog(prefix: string, timeoutMs: number, from = 0): Promise<LogLine | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.proc.logs.slice(from).find((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));
      if (hit) return hit;
      if (Date.now() > deadline || !this.alive) return undefined;
      await sleep(25);
    }
  }

  /** Resident set size in bytes (VmRSS from /proc/<pid>/status), or undefined once the process is gone. */
  rssBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      return kb ? Number(kb[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sends `signal` and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.proc.child.kill(signal);
    return this.proc.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Returns the exit and the final stats line. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stats?: LogLine }> {
    if (this.alive) this.proc.child.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.child.kill('SIGKILL'), graceMs);
    const exit = await this.proc.exited;
    clearTimeout(timer);
    return { ...exit, stats: this.logged('stopped').at(-1) };
  }
}
