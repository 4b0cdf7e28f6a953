/** Fault injection for the fault tests: another process holding the database's write lock, a filesystem that fills up. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LOCK_HOLDER = fileURLToPath(new URL('./db-lock-holder.js', import.meta.url));

export interface HeldLock {
  readonly child: ChildProcess;
  /** Commits the holder's empty transaction and waits for it to exit. */
  release(): Promise<void>;
}

/** Starts a process that takes SQLite's write lock on `dbPath` and holds it until `release()`. */
export async function holdWriteLock(dbPath: string, timeoutMs = 15_000): Promise<HeldLock> {
  const child = spawn(process.execPath, [LOCK_HOLDER, dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lock holder did not take the lock within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lock holder exited (${code}) before locking: ${err}`));
    });
  });
  return {
    child,
    release: async () => {
      child.stdin!.end('release\n');
      await exited;
    },
  };
}

/**
 * A filesystem that can be filled up on demand, for the disk-full test.
 * - `tmpfs`: a small tmpfs mounted on a temp dir (needs root and mount permission: CI runs as root); filling it
 *   with a file makes every write fail with ENOSPC, which SQLite reports as SQLITE_FULL.
 * - `fsize`: when mount is not permitted, the agent's RLIMIT_FSIZE is lowered with prlimit(1) to the size its
 *   database files have now, so growing them fails (EFBIG; SQLite reports SQLITE_IOERR_WRITE). Node ignores SIGXFSZ.
 */
export type DiskMethod = 'tmpfs' | 'fsize';

export class TinyDisk {
  private fillerPath?: string;
  private limitedPid?: number;

  private constructor(
    readonly dir: string,
    readonly method: DiskMethod,
  ) {}

  /** A tiny disk, or the reason none can be made here. `HUBNLU_FAULT_DISK=fsize` forces the fallback. */
  static create(sizeMb: number): TinyDisk | { skip: string } {
    const dir = `${process.env.TMPDIR ?? '/tmp'}/hubnlu-tinydisk-${process.pid}-${Date.now()}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const problems: string[] = [];
    if (process.env.HUBNLU_FAULT_DISK !== 'fsize') {
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
      if (r.status === 0) return new TinyDisk(dir, 'tmpfs');
      problems.push(`mount -t tmpfs failed: ${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}`);
    }
    const p = spawnSync('prlimit', ['--version'], { encoding: 'utf8' });
    if (p.status === 0) return new TinyDisk(dir, 'fsize');
    problems.push(`prlimit unavailable: ${(p.error?.message ?? p.stderr).trim()}`);
    rmSync(dir, { recursive: true, force: true });
    return { skip: `no way to fill a disk here (${problems.join('; ')})` };
  }

  /**
   * Makes further growth of the database fail. `pid`: the agent; `dbPath`: its database (both for the fsize method,
   * which caps every file the agent writes at the database file's present size: the WAL, usually larger, can then
   * only be rewritten below that offset). Returns the bytes the filler took (tmpfs).
   */
  fill(pid: number, dbPath: string): number {
    if (this.method === 'fsize') {
      const size = fileSize(dbPath);
      // Soft limit only: lowering the hard limit too could not be undone without CAP_SYS_RESOURCE.
      const r = spawnSync('prlimit', ['--pid', String(pid), `--fsize=${size}:unlimited`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`prlimit failed: ${r.stderr}`);
      this.limitedPid = pid;
      return 0;
    }
    this.fillerPath = `${this.dir}/filler`;
    const fd = openSync(this.fillerPath, 'a');
    let written = 0;
    try {
      for (const chunk of [1 << 20, 1 << 16, 1 << 12, 512, 1]) {
        const buf = Buffer.alloc(chunk, 0x5a);
        for (;;) {
          try {
            written += writeSync(fd, buf);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Gives the space back (deletes the filler, or lifts the file-size limit). */
  free(): void {
    if (this.fillerPath) rmSync(this.fillerPath, { force: true });
    this.fillerPath = undefined;
    if (this.limitedPid !== undefined) {
      const pid = this.limitedPid;
      this.limitedPid = undefined;
      const r = spawnSync('prlimit', ['--pid', String(pid), '--fsize=unlimited'], { encoding: 'utf8' });
      // The agent may have been killed meanwhile; any other failure would leave it unable to write.
      if (r.status !== 0 && existsSync(`/proc/${pid}`)) throw new Error(`prlimit could not lift the limit: ${r.stderr}`);
    }
  }

  cleanup(): void {
    this.free();
    if (this.method === 'tmpfs') {
      const r = spawnSync('umount', [this.dir]);
      if (r.status !== 0) spawnSync('umount', ['-l', this.dir]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
