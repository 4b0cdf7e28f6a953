/**
 * One agent per database: `hubnlu run` holds `<database>.lock`, a small file
 * with its pid, and refuses to start while another live agent holds it. Two
 * agents on one file would both answer every input and race each other's
 * outbox. The read-only commands (`logs`, `stats`) take no lock.
 *
 * The lock is between agents, not between writers: SQLite (WAL) already lets
 * one writer at a time in, each waiting up to its busy timeout. The labelling
 * commands (`hubnlu label`, `review --interactive`) take no lock either and
 * write through short transactions next to a running agent (milliseconds each,
 * far under the agent's 5 s busy timeout); they never migrate a database a
 * live agent holds (see `src/cli/log-database.ts`).
 *
 * The file is created atomically complete (written under a temporary name,
 * then hard-linked into place, which fails if it exists). A lock is stale, and
 * taken over, when its pid is not running, is our own (a container restarted
 * as pid 1), or now belongs to a process started at another time than the one
 * recorded (the pid was reused after a crash or reboot; Linux /proc).
 */
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseFailure } from './failure.js';

export interface LockOwner {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); absent off Linux. */
  readonly startTime?: string;
  readonly since: string;
}

/** Paths locked by this process: a second agent in the same process is refused too. */
const heldHere = new Set<string>();

export function lockPathFor(dbPath: string): string {
  return `${dbPath}.lock`;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) && owner.pid > 0 ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** True when `owner` is a running process that is still the one that wrote the lock. */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTime(owner.pid);
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
}

/** The running agent holding the lock of `dbPath`, or undefined when none (no lock file, or a stale one). */
export function liveLockOwner(dbPath: string): LockOwner | undefined {
  const owner = readOwner(lockPathFor(dbPath));
  return owner && ownerAlive(owner) ? owner : undefined;
}

export class DatabaseLock {
  private constructor(
    readonly path: string,
    readonly owner: LockOwner,
    /** The owner of a stale lock this one replaced, if any (for the log). */
    readonly replacedStale?: LockOwner | 'unreadable',
  ) {}

  /** Takes the lock for `dbPath` or throws a DatabaseFailure (code LOCKED_BY_AGENT) naming the file and the owner's pid. */
  static acquire(dbPath: string): DatabaseLock {
    const lockPath = lockPathFor(dbPath);
    const dir = dirname(lockPath);
    // The first write of a start: a directory hubnlu may not write (or a path through a file) is named here, with the fix.
    const cannotWrite = (err: unknown): DatabaseFailure => {
      const code = String((err as NodeJS.ErrnoException).code ?? 'UNKNOWN');
      return new DatabaseFailure(
        `${dbPath}: cannot create the lock file ${lockPath} (${(err as Error).message}); hubnlu needs to create files in ${dir}: ` +
          'make that directory writable by the user hubnlu runs as (owner, permissions, a read-write mount), or set storage.path to a file in a directory it may write',
        dbPath,
        code,
      );
    };
    try {
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw cannotWrite(err);
    }
    const refuse = (pid: number | string, since?: string): DatabaseFailure =>
      new DatabaseFailure(
        `${dbPath}: another hubnlu agent (pid ${pid}${since ? `, running since ${since}` : ''}) is using this database (lock file ${lockPath}). ` +
          'Stop that agent first, or give this one its own storage.path. The read-only commands (hubnlu logs, stats) work alongside it',
        dbPath,
        'LOCKED_BY_AGENT',
      );
    if (heldHere.has(lockPath)) throw refuse(process.pid);
    const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid), since: new Date().toISOString() };
    let replacedStale: LockOwner | 'unreadable' | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const tmp = `${lockPath}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600 });
      } catch (err) {
        throw cannotWrite(err);
      }
      try {
        linkSync(tmp, lockPath);
        heldHere.add(lockPath);
        return new DatabaseLock(lockPath, me, replacedStale);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        unlinkSync(tmp);
      }
      const owner = readOwner(lockPath);
      if (owner && ownerAlive(owner)) throw refuse(owner.pid, owner.since);
      // Stale (its process is gone) or unreadable: remove it and try again.
      replacedStale = owner ?? 'unreadable';
      try {
        unlinkSync(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const owner = readOwner(lockPath);
    throw refuse(owner?.pid ?? 'unknown', owner?.since);
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    heldHere.delete(this.path);
    const owner = readOwner(this.path);
    if (owner && owner.pid === this.owner.pid && owner.since === this.owner.since) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }
}
