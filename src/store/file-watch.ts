/**
 * Notices the database file being deleted or replaced while the agent has it
 * open. SQLite keeps writing into its open (now nameless) file, so without this
 * every later input would be acknowledged, answered and then lost at the next
 * start. Compares the device and inode of the path (and of its `-wal`) with
 * those seen at start: after every commit (one stat(2) per file, a few
 * microseconds) and on a timer for quiet periods.
 */
import { statSync } from 'node:fs';
import { DatabaseFailure } from './failure.js';

interface Identity {
  readonly dev: number;
  readonly ino: number;
}

const identityOf = (path: string): Identity | undefined => {
  const s = statSync(path, { throwIfNoEntry: false });
  return s ? { dev: s.dev, ino: s.ino } : undefined;
};

export class DatabaseFileWatch {
  private db?: Identity;
  private wal?: Identity;
  private timer?: NodeJS.Timeout;
  private failed?: DatabaseFailure;

  /** Does nothing: `start()` records the file (STYLE: constructors do nothing). */
  constructor(
    private readonly path: string,
    private readonly intervalMs = 2000,
  ) {}

  /** Records the file's identity now, then checks every `intervalMs`; `onFailure` is called once. */
  start(onFailure: (err: DatabaseFailure) => void): void {
    this.db = identityOf(this.path);
    this.wal = identityOf(`${this.path}-wal`);
    this.timer = setInterval(() => {
      try {
        this.check();
      } catch (err) {
        this.stop();
        onFailure(err as DatabaseFailure);
      }
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Throws a DatabaseFailure if the database file (or its WAL) is not the one opened at start. */
  check(): void {
    if (this.failed) throw this.failed;
    if (!this.db) return;
    const now = identityOf(this.path);
    let problem: string | undefined;
    let code = 'DELETED';
    if (!now) problem = 'was deleted (or moved away)';
    else if (now.dev !== this.db.dev || now.ino !== this.db.ino) {
      problem = 'was replaced by another file';
      code = 'REPLACED';
    } else {
      const wal = identityOf(`${this.path}-wal`);
      // SQLite creates the WAL at the first transaction and keeps it while the agent runs (a checkpoint truncates, never deletes it).
      if (!this.wal) this.wal = wal;
      else if (!wal) problem = 'lost its -wal file (deleted while the agent had it open; recent rows are in it)';
      else if (wal.dev !== this.wal.dev || wal.ino !== this.wal.ino) {
        problem = 'had its -wal file replaced';
        code = 'REPLACED';
      }
    }
    if (!problem) return;
    this.failed = new DatabaseFailure(
      `${this.path}: the database file ${problem} while hubnlu was running; stopping so that no further input is acknowledged into a file that is gone. ` +
        'Whatever was stored since start in the lost file is gone with it; unacknowledged inputs stay with the broker. Restart hubnlu to create a new database (or restore the file)',
      this.path,
      code,
    );
    throw this.failed;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
