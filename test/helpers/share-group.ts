/**
 * A group of real `hubnlu run` processes sharing the inputs of one broker through `input.shareGroup`: each with its
 * own client id and database, as separate hubs would be. Used by test/scale and bench/scale.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { FaultAgent, type AgentSettings } from './agent-process.js';

export interface GroupMember {
  readonly name: string;
  readonly settings: AgentSettings;
  agent: FaultAgent;
}

export function memberSettings(brokerUrl: string, dir: string, name: string, group: string, extra: Record<string, string | number | boolean> = {}): AgentSettings {
  return {
    brokerUrl,
    dbPath: join(dir, `${name}.db`),
    clientId: name,
    settings: { 'input.shareGroup': group, 'storage.synchronous': 'normal', 'log.level': 'info', ...extra },
  };
}

/** Starts `count` agents in the share group `group` (in parallel), named `<prefix>-0` … */
export async function startGroup(brokerUrl: string, dir: string, prefix: string, count: number, group: string, extra: Record<string, string | number | boolean> = {}): Promise<GroupMember[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const started = await Promise.allSettled(names.map((name) => FaultAgent.start(memberSettings(brokerUrl, dir, name, group, extra), 180_000)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    for (const s of started) if (s.status === 'fulfilled') await s.value.kill('SIGKILL');
    throw (failed as PromiseRejectedResult).reason;
  }
  return names.map((name, i) => ({ name, settings: memberSettings(brokerUrl, dir, name, group, extra), agent: (started[i] as PromiseFulfilledResult<FaultAgent>).value }));
}

export interface GroupRow {
  readonly member: string;
  readonly id: string;
  readonly topic: string;
  readonly siteId: string;
  readonly resultTopic: string | null;
  readonly status: string;
}

/** Every input row of every member's database (the group's log, merged). */
export function groupRows(members: readonly GroupMember[]): GroupRow[] {
  const out: GroupRow[] = [];
  for (const m of members) {
    const db = new Database(m.settings.dbPath, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const rows = db.prepare(`SELECT id, topic, site_id AS siteId, result_topic AS resultTopic, status FROM inputs`).all() as Array<Omit<GroupRow, 'member'>>;
      for (const r of rows) out.push({ member: m.name, ...r });
    } finally {
      db.close();
    }
  }
  return out;
}

/** Unpublished outbox rows across the group. */
export function groupUnpublished(members: readonly GroupMember[]): number {
  let n = 0;
  for (const m of members) {
    const db = new Database(m.settings.dbPath, { readonly: true, fileMustExist: true });
    try {
      n += (db.prepare(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  return n;
}
