/** Starts a real agent in-process: real config validation, SQLite file, models and broker. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentInfo } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { loadLiveModels } from '../../src/cli/context.js';
import { createLogger } from '../../src/util/logger.js';

export interface RunningAgent {
  readonly agent: Agent;
  readonly info: AgentInfo;
  readonly config: Config;
  readonly dbPath: string;
  readonly brokerUrl: string;
  stop(): Promise<void>;
}

export async function startAgent(overrides: Record<string, unknown> = {}, opts: { loadShadow?: ConstructorParameters<typeof Agent>[3] } = {}): Promise<RunningAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-agent-'));
  const dbPath = join(dir, 'hubnlu.db');
  const { config } = loadConfig({
    env: {},
    overrides: { 'storage.path': dbPath, 'storage.synchronous': 'normal', 'mqtt.embedded.port': 0, 'log.level': 'silent', ...overrides },
  });
  const agent = new Agent(config, createLogger({ level: config.log.level, sync: true }), loadLiveModels, opts.loadShadow);
  const info = await agent.start();
  return {
    agent,
    info,
    config,
    dbPath,
    brokerUrl: config.mqtt.url ?? info.brokerUrl,
    stop: () => agent.stop(),
  };
}
