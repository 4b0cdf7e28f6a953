/**
 * The household's models, versioned under the data directory:
 *
 *   <learning.modelsDir>/<task>/v0001/      one model directory (manifest.json, …) + version.json
 *   <learning.modelsDir>/<task>/v0002/
 *   <learning.modelsDir>/<task>/current.json  which version is live, and the ones before it
 *
 * A version is written to a hidden temporary directory and renamed into place
 * (a half-written version is never listed); `current.json` is written to a
 * temporary file, fsynced and renamed (a reader sees the old pointer or the
 * new one, never a torn one). The package's `models/` stays the read-only
 * shipped models: with no `current.json` (or after rolling back past the
 * first promotion) the shipped model is live.
 *
 * Several writers may share one store: the agent's nightly retrain and a
 * `hubnlu train --with-log-labels` (or `models promote`) in another process.
 * A version number is claimed by creating its (empty) directory, which fails
 * when it exists, so two runs never get the same number: the second takes the
 * next one (`claim`). The finished model is renamed onto its claimed, still
 * empty directory. The pointer is read, changed and written under
 * `current.json.lock` (a file with the writer's pid, held for milliseconds), so
 * two promotions never lose one another's history; a retrain promotes only if
 * the live version is still the one it compared its candidate with.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TaskName } from '../model/tasks.js';
import { ownerAlive, type LockOwner } from '../store/lock.js';

/** The name the shipped model goes by in the store's history (`models rollback` can end there). */
export const SHIPPED = 'shipped';

export const VERSION_FILE = 'version.json';
export const POINTER_FILE = 'current.json';
/** Held while the pointer is read, changed and written (see the header). */
export const POINTER_LOCK = 'current.json.lock';
/** How long a pointer change waits for another writer's lock before giving up (default). */
const POINTER_LOCK_WAIT_MS = 10_000;
const STAGING_PREFIX = '.staging-';
/** A staging directory this old is left from a run that died (see `stage`). */
export const STALE_STAGING_MS = 24 * 3600 * 1000;

/** What `hubnlu models list` shows of a version (written beside its manifest). */
export interface VersionInfo {
  readonly version: string;
  readonly task: TaskName;
  /** ISO time the version was stored. */
  readonly createdAt: string;
  /** The version it was trained to improve on (`shipped` or another version). */
  readonly parent: string;
  /** Training data: rows per source (`public:hwu64.train.jsonl`, `log`, `jsonl:…`, `templates:…`) and per household label. */
  readonly data: {
    readonly sources: Readonly<Record<string, number>>;
    readonly householdLabels: Readonly<Record<string, number>>;
    readonly heldOutRows: number;
  };
  /** Base vs candidate on the held-out household rows and the public dev set. */
  readonly metrics: Readonly<Record<string, unknown>>;
  /** Whether the promotion checks passed, and why not. */
  readonly checks: { readonly passed: boolean; readonly reasons: readonly string[] };
  readonly trainingSeconds: number;
}

export interface Pointer {
  /** The live version (`shipped` for the package's model). */
  readonly version: string;
  readonly promotedAt: string;
  /** Versions live before this one, most recent last (what rollback returns to). */
  readonly history: readonly string[];
}

export interface StoredVersion extends VersionInfo {
  readonly dir: string;
  readonly current: boolean;
}

export class ModelStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelStoreError';
  }
}

/** `promote(…, { ifLive })` found another version live than the one the caller compared its candidate with. */
export class PointerMovedError extends ModelStoreError {
  constructor(
    readonly expected: string,
    readonly live: string,
    readonly version: string,
  ) {
    super(`${version} was compared with ${expected}, but ${live} became live meanwhile (another retrain or \`hubnlu models promote\`); not promoted: \`hubnlu models promote ${version}\` makes it live anyway, or retrain to compare it with ${live}`);
    this.name = 'PointerMovedError';
  }
}

/** `rollback` with the shipped model live and no history: nothing to go back to (`hubnlu models rollback` exits 3). */
export class NothingToRollBackError extends ModelStoreError {
  constructor(readonly task: TaskName) {
    super(`nothing to roll back: the shipped ${task} model is live and no version was ever promoted`);
    this.name = 'NothingToRollBackError';
  }
}

const VERSION_RE = /^v(\d{4,})$/;
const versionName = (n: number): string => `v${String(n).padStart(4, '0')}`;

/** How often a writer waiting for the pointer lock tries again, ms. */
const LOCK_POLL_MS = 5;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isEmptyDir(path: string): boolean {
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}

/** Writes `text` to `file` atomically: temporary file, fsync, rename. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export class ModelStore {
  readonly root: string;
  private readonly lockWaitMs: number;

  /** `root` is `learning.modelsDir` (resolved by the caller); nothing is created until something is written. */
  constructor(root: string, opts: { readonly lockWaitMs?: number } = {}) {
    this.root = resolve(root);
    this.lockWaitMs = opts.lockWaitMs ?? POINTER_LOCK_WAIT_MS;
  }

  taskDir(task: TaskName): string {
    return join(this.root, task);
  }

  pointerFile(task: TaskName): string {
    return join(this.taskDir(task), POINTER_FILE);
  }

  /** Stored versions, oldest first. */
  list(task: TaskName): StoredVersion[] {
    const dir = this.taskDir(task);
    if (!existsSync(dir)) return [];
    const live = this.pointer(task).version;
    return this.versions(task).map((n) => {
      const file = join(dir, n, VERSION_FILE);
      let info: VersionInfo;
      try {
        info = JSON.parse(readFileSync(file, 'utf8')) as VersionInfo;
      } catch (err) {
        throw new ModelStoreError(`${file}: not valid JSON (${(err as Error).message}); move ${join(dir, n)} out of the store (or restore the file from a backup)`);
      }
      return { ...info, version: n, dir: join(dir, n), current: n === live };
    });
  }

  /** The names of the stored versions, oldest first (a directory without version.json is an interrupted write, not a version). */
  versions(task: TaskName): string[] {
    const dir = this.taskDir(task);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => VERSION_RE.test(n) && existsSync(join(dir, n, VERSION_FILE)))
      .sort();
  }

  /** The pointer (`shipped` with no history when nothing was ever promoted). */
  pointer(task: TaskName): Pointer {
    const file = this.pointerFile(task);
    if (!existsSync(file)) return { version: SHIPPED, promotedAt: '', history: [] };
    let p: Pointer;
    try {
      p = JSON.parse(readFileSync(file, 'utf8')) as Pointer;
    } catch (err) {
      throw new ModelStoreError(`${file}: not valid JSON (${(err as Error).message}); run \`hubnlu models promote <version>\` (or \`promote shipped\`) to rewrite it`);
    }
    if (typeof p.version !== 'string' || !Array.isArray(p.history)) throw new ModelStoreError(`${file}: expected {version, promotedAt, history}; run \`hubnlu models promote <version>\` to rewrite it`);
    return p;
  }

  /** The live model directory for `task`, or null when the shipped one is live. */
  currentDir(task: TaskName): string | null {
    const v = this.pointer(task).version;
    if (v === SHIPPED) return null;
    const dir = join(this.taskDir(task), v);
    if (!existsSync(join(dir, VERSION_FILE))) {
      throw new ModelStoreError(`${this.pointerFile(task)} names ${v}, which is not in ${this.taskDir(task)}; run \`hubnlu models rollback\` or \`hubnlu models promote <version>\``);
    }
    return dir;
  }

  /**
   * The lowest number above every version there is, stored or claimed (v0001, v0002, …). Only a guess of what
   * the next `claim` gets: another process may claim it first.
   */
  nextVersion(task: TaskName): string {
    const dir = this.taskDir(task);
    const taken = existsSync(dir) ? readdirSync(dir).map((n) => VERSION_RE.exec(n)?.[1]).filter((x): x is string => x !== undefined).map(Number) : [];
    return versionName((taken.length ? Math.max(...taken) : 0) + 1);
  }

  /**
   * Claims the next free version number for a run by creating its empty directory (mkdir fails when it exists, in
   * this process or another, so no two runs get one number: the later one goes on to the next). `add` fills it;
   * `discard` gives it back. An empty claim is no version (`versions` lists only directories with version.json).
   */
  claim(task: TaskName): string {
    this.mkdirTask(task);
    const first = Number(this.nextVersion(task).slice(1));
    for (let n = first; n < first + 1000; n++) {
      const name = versionName(n);
      try {
        mkdirSync(join(this.taskDir(task), name));
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    throw new ModelStoreError(`${this.taskDir(task)}: cannot claim a version number (${versionName(first)} to ${versionName(first + 999)} all exist); remove the empty version directories there`);
  }

  /**
   * A temporary directory inside the store (same file system as the versions, so `add` is a rename). Staging
   * directories older than `STALE_STAGING_MS` are removed first: a run that was killed (power cut, `kill -9`, the
   * agent stopped mid-retrain) leaves its model files there, and nothing else would ever remove them. A run takes
   * minutes, so one that old is not another run's.
   */
  stage(task: TaskName): string {
    const dir = this.taskDir(task);
    this.mkdirTask(task);
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory() && Date.now() - st.mtimeMs > STALE_STAGING_MS) rmSync(path, { recursive: true, force: true });
    }
    // So are the version numbers such runs claimed (empty directories; rmdir removes nothing else).
    for (const name of readdirSync(dir)) {
      if (!VERSION_RE.test(name)) continue;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory() && Date.now() - st.mtimeMs > STALE_STAGING_MS && isEmptyDir(path)) {
        try {
          rmdirSync(path);
        } catch {
          // filled or removed meanwhile
        }
      }
    }
    return mkdtempSync(join(dir, STAGING_PREFIX));
  }

  /**
   * Moves a finished model directory (from `stage`) into the store as `version` (from `claim`; without one, the
   * next free number is claimed now); returns it.
   */
  add(task: TaskName, staged: string, info: Omit<VersionInfo, 'version' | 'task' | 'createdAt'>, claimed?: string): StoredVersion {
    if (!existsSync(join(staged, 'manifest.json'))) throw new ModelStoreError(`${staged}: holds no manifest.json; only finished model directories can be stored`);
    const version = claimed ?? this.claim(task);
    const dir = join(this.taskDir(task), version);
    if (claimed !== undefined && !isEmptyDir(dir)) {
      throw new ModelStoreError(
        existsSync(dir)
          ? `${dir}: version ${version} was claimed by this run but holds files now (another program wrote there); the model is left in ${staged}`
          : `${dir}: version ${version} was claimed by this run and is gone (removed from ${this.taskDir(task)} while the run trained); the model is left in ${staged}`,
      );
    }
    const full: VersionInfo = { version, task, createdAt: new Date().toISOString(), ...info };
    writeFileAtomic(join(staged, VERSION_FILE), `${JSON.stringify(full, null, 2)}\n`);
    // Onto the empty claimed directory: rename replaces an empty directory, and fails on one with files in it.
    renameSync(staged, dir);
    return { ...full, dir, current: false };
  }

  /** Removes a staging directory left by a failed run, and gives back its claimed version number. */
  discard(staged: string, claimed?: { task: TaskName; version: string }): void {
    rmSync(staged, { recursive: true, force: true });
    if (claimed) {
      const dir = join(this.taskDir(claimed.task), claimed.version);
      if (isEmptyDir(dir)) {
        try {
          rmdirSync(dir);
        } catch {
          // filled or removed meanwhile
        }
      }
    }
  }

  /**
   * Creates the task's directory for a write. A root that is (or lies under) a file would fail with a bare
   * ENOTDIR from mkdir: name the file and the setting instead. Reads need no check (no file there, nothing stored).
   */
  private mkdirTask(task: TaskName): void {
    for (let p = this.taskDir(task); ; p = dirname(p)) {
      let st;
      try {
        st = statSync(p, { throwIfNoEntry: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
        continue; // a file above this path: found further up
      }
      if (st && !st.isDirectory()) {
        throw new ModelStoreError(`${p}: a file, not a directory, where the model store (learning.modelsDir = ${this.root}) keeps its versions; point learning.modelsDir at a directory (default data/models) or move the file away`);
      }
      if (st || dirname(p) === p) break;
    }
    mkdirSync(this.taskDir(task), { recursive: true });
  }

  /**
   * Makes `version` live (or `shipped`); the previous live version goes on the history. With `ifLive`, only when
   * that version is still the live one (a retrain's candidate was compared with it): else a PointerMovedError.
   * Waits for another writer's lock synchronously: for the CLI (`hubnlu models promote`), which has nothing else to do.
   */
  promote(task: TaskName, version: string, opts: { readonly ifLive?: string } = {}): Pointer {
    this.checkPromotable(task, version);
    return this.withPointerLock(task, () => this.promoteLocked(task, version, opts));
  }

  /**
   * `promote`, waiting for another writer's lock with timers instead of blocking: the agent's nightly retrain
   * (learning-loop.ts) promotes in the agent's own process, where a synchronous wait of up to `lockWaitMs` (10 s)
   * would stop intake, acknowledgements and the MQTT keepalive while a `hubnlu models promote` holds the lock.
   */
  async promoteAsync(task: TaskName, version: string, opts: { readonly ifLive?: string } = {}): Promise<Pointer> {
    this.checkPromotable(task, version);
    return this.withPointerLockAsync(task, () => this.promoteLocked(task, version, opts));
  }

  private checkPromotable(task: TaskName, version: string): void {
    if (version === SHIPPED) return;
    // Only the names: one version with a damaged version.json must not keep another from being promoted.
    const known = this.versions(task);
    if (!known.includes(version)) throw new ModelStoreError(`no ${task} model version ${version} in ${this.taskDir(task)}; \`hubnlu models list\` shows ${known.join(', ') || 'none'} (or use ${SHIPPED})`);
  }

  private promoteLocked(task: TaskName, version: string, opts: { readonly ifLive?: string }): Pointer {
    const before = this.pointer(task);
    if (opts.ifLive !== undefined && before.version !== opts.ifLive) throw new PointerMovedError(opts.ifLive, before.version, version);
    if (before.version === version) return before;
    const next: Pointer = { version, promotedAt: new Date().toISOString(), history: [...before.history, before.version].slice(-50) };
    this.writePointer(task, next);
    return next;
  }

  /** Goes back to the version live before the current one (the shipped model at the end of the history). */
  rollback(task: TaskName): Pointer {
    return this.withPointerLock(task, () => {
      const before = this.pointer(task);
      if (before.version === SHIPPED && before.history.length === 0) throw new NothingToRollBackError(task);
      const history = [...before.history];
      const previous = history.pop() ?? SHIPPED;
      const next: Pointer = { version: previous, promotedAt: new Date().toISOString(), history };
      this.writePointer(task, next);
      return next;
    });
  }

  /**
   * Runs `change` (read the pointer, write it) holding `current.json.lock`: created complete (written under a
   * temporary name, hard-linked into place, which fails when it exists). A lock whose process is gone is taken
   * over; a live holder is waited for (it holds it for milliseconds), up to `lockWaitMs` (10 s), here synchronously
   * (`withPointerLockAsync` waits with timers).
   */
  private withPointerLock<T>(task: TaskName, change: () => T): T {
    const deadline = Date.now() + this.lockWaitMs;
    while (!this.tryPointerLock(task, deadline)) sleepSync(LOCK_POLL_MS);
    return this.changeAndUnlock(task, change);
  }

  private async withPointerLockAsync<T>(task: TaskName, change: () => T): Promise<T> {
    const deadline = Date.now() + this.lockWaitMs;
    while (!this.tryPointerLock(task, deadline)) await delay(LOCK_POLL_MS);
    // From here on synchronous: the lock is never held across an await (see tryPointerLock on a lock with our pid).
    return this.changeAndUnlock(task, change);
  }

  /** One attempt at the lock: true when taken; false to wait and try again; throws once `deadline` has passed. */
  private tryPointerLock(task: TaskName, deadline: number): boolean {
    this.mkdirTask(task);
    const lock = join(this.taskDir(task), POINTER_LOCK);
    const me: LockOwner = { pid: process.pid, since: new Date().toISOString() };
    for (;;) {
      const tmp = `${lock}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(me)}\n`);
      let got = false;
      try {
        linkSync(tmp, lock);
        got = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        unlinkSync(tmp);
      }
      if (got) return true;
      let owner: LockOwner | undefined;
      try {
        owner = JSON.parse(readFileSync(lock, 'utf8')) as LockOwner;
      } catch {
        owner = undefined; // gone meanwhile, or not ours to read: try again
      }
      if (owner && Number.isInteger(owner.pid) && owner.pid > 0 && !ownerAlive({ pid: owner.pid, since: owner.since })) {
        // Its process is gone (killed while changing the pointer; the pointer itself is whole, written by rename), or
        // it is ours: this process holds the lock only while it changes the pointer synchronously (the async path
        // waits for the lock, never holds it across an await), so a lock with its pid is a dead one's (pid reused).
        try {
          unlinkSync(lock);
        } catch {
          // another waiter removed it first
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new ModelStoreError(`${lock}: held by process ${owner?.pid ?? 'unknown'}${owner?.since ? ` since ${owner.since}` : ''} for more than ${this.lockWaitMs / 1000} s while it changes the live ${task} model; try again, or remove the file if no hubnlu process is running`);
      }
      return false;
    }
  }

  private changeAndUnlock<T>(task: TaskName, change: () => T): T {
    try {
      return change();
    } finally {
      try {
        unlinkSync(join(this.taskDir(task), POINTER_LOCK));
      } catch {
        // already gone
      }
    }
  }

  private writePointer(task: TaskName, p: Pointer): void {
    this.mkdirTask(task);
    writeFileAtomic(this.pointerFile(task), `${JSON.stringify(p, null, 2)}\n`);
  }
}
