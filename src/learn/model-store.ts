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
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TaskName } from '../model/tasks.js';

/** The name the shipped model goes by in the store's history (`models rollback` can end there). */
export const SHIPPED = 'shipped';

export const VERSION_FILE = 'version.json';
export const POINTER_FILE = 'current.json';
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

const VERSION_RE = /^v(\d{4,})$/;

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

  /** `root` is `learning.modelsDir` (resolved by the caller); nothing is created until something is written. */
  constructor(root: string) {
    this.root = resolve(root);
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

  /** The version the next `add` will get (v0001, v0002, …). */
  nextVersion(task: TaskName): string {
    const dir = this.taskDir(task);
    const taken = existsSync(dir) ? readdirSync(dir).map((n) => VERSION_RE.exec(n)?.[1]).filter((x): x is string => x !== undefined).map(Number) : [];
    return `v${String((taken.length ? Math.max(...taken) : 0) + 1).padStart(4, '0')}`;
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
    return mkdtempSync(join(dir, STAGING_PREFIX));
  }

  /** Moves a finished model directory (from `stage`) into the store as the next version; returns it. */
  add(task: TaskName, staged: string, info: Omit<VersionInfo, 'version' | 'task' | 'createdAt'>): StoredVersion {
    if (!existsSync(join(staged, 'manifest.json'))) throw new ModelStoreError(`${staged}: holds no manifest.json; only finished model directories can be stored`);
    const version = this.nextVersion(task);
    const full: VersionInfo = { version, task, createdAt: new Date().toISOString(), ...info };
    writeFileAtomic(join(staged, VERSION_FILE), `${JSON.stringify(full, null, 2)}\n`);
    const dir = join(this.taskDir(task), version);
    renameSync(staged, dir);
    return { ...full, dir, current: false };
  }

  /** Removes a staging directory left by a failed run. */
  discard(staged: string): void {
    rmSync(staged, { recursive: true, force: true });
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

  /** Makes `version` live (or `shipped`); the previous live version goes on the history. */
  promote(task: TaskName, version: string): Pointer {
    if (version !== SHIPPED) {
      // Only the names: one version with a damaged version.json must not keep another from being promoted.
      const known = this.versions(task);
      if (!known.includes(version)) throw new ModelStoreError(`no ${task} model version ${version} in ${this.taskDir(task)}; \`hubnlu models list\` shows ${known.join(', ') || 'none'} (or use ${SHIPPED})`);
    }
    const before = this.pointer(task);
    if (before.version === version) return before;
    const next: Pointer = { version, promotedAt: new Date().toISOString(), history: [...before.history, before.version].slice(-50) };
    this.writePointer(task, next);
    return next;
  }

  /** Goes back to the version live before the current one (the shipped model at the end of the history). */
  rollback(task: TaskName): Pointer {
    const before = this.pointer(task);
    if (before.version === SHIPPED && before.history.length === 0) throw new ModelStoreError(`nothing to roll back: the shipped ${task} model is live and no version was ever promoted`);
    const history = [...before.history];
    const previous = history.pop() ?? SHIPPED;
    const next: Pointer = { version: previous, promotedAt: new Date().toISOString(), history };
    this.writePointer(task, next);
    return next;
  }

  private writePointer(task: TaskName, p: Pointer): void {
    this.mkdirTask(task);
    writeFileAtomic(this.pointerFile(task), `${JSON.stringify(p, null, 2)}\n`);
  }
}
