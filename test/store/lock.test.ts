import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseLock, lockPathFor } from '../../src/store/lock.js';
import { DatabaseFailure } from '../../src/store/failure.js';

const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'hubnlu-lock-')), 'h.db');

test('the lock holds our pid; a second lock on the same file in this process is refused; release removes it', () => {
  const db = fresh();
  const lock = DatabaseLock.acquire(db);
  const owner = JSON.parse(readFileSync(lockPathFor(db), 'utf8')) as { pid: number };
  assert.equal(owner.pid, process.pid);
  assert.throws(
    () => DatabaseLock.acquire(db),
    (err: Error) => err instanceof DatabaseFailure && err.code === 'LOCKED_BY_AGENT' && err.message.includes(db) && err.message.includes(`pid ${process.pid}`),
  );
  lock.release();
  assert.equal(existsSync(lockPathFor(db)), false);
  DatabaseLock.acquire(db).release();
});

test('a lock held by another live process is refused, naming its pid', () => {
  const db = fresh();
  // A live process that is not us: the parent of this test runner, recorded with its real start time.
  const pid = process.ppid;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  writeFileSync(lockPathFor(db), JSON.stringify({ pid, startTime, since: '2026-01-01T00:00:00.000Z' }));
  assert.throws(() => DatabaseLock.acquire(db), (err: Error) => err instanceof DatabaseFailure && err.message.includes(`pid ${pid}, running since 2026-01-01`));
  assert.ok(existsSync(lockPathFor(db)), 'a live owner’s lock was removed');
});

test('stale locks are taken over: a dead pid, a reused pid (other start time), our own pid (a restarted container), an unreadable file', () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  const cases: Array<[string, string]> = [
    ['dead pid', JSON.stringify({ pid: dead, since: 'x' })],
    ['reused pid', JSON.stringify({ pid: process.ppid, startTime: '1', since: 'x' })],
    ['our pid', JSON.stringify({ pid: process.pid, since: 'x' })],
    ['unreadable', 'not json'],
  ];
  for (const [name, content] of cases) {
    const db = fresh();
    writeFileSync(lockPathFor(db), content);
    const lock = DatabaseLock.acquire(db);
    assert.ok(lock.replacedStale, name);
    assert.equal((JSON.parse(readFileSync(lockPathFor(db), 'utf8')) as { pid: number }).pid, process.pid, name);
    lock.release();
  }
});

/** Asserts that taking the lock for `db` fails with a DatabaseFailure that names storage.path, the directory and the fix. */
function assertNamesTheFix(db: string, dir: string): void {
  assert.throws(
    () => DatabaseLock.acquire(db),
    (err: Error) => {
      assert.ok(err instanceof DatabaseFailure, `expected a DatabaseFailure (exit 78), got ${err.name}: ${err.message}`);
      assert.match(err.message, new RegExp(`^${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot create the lock file `));
      assert.ok(err.message.includes(`in ${dir}`), err.message);
      assert.match(err.message, /storage\.path/);
      return true;
    },
  );
}

test('a data directory hubnlu may not write: a DatabaseFailure naming the directory, storage.path and the fix (not a bare EACCES)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-lock-ro-'));
  if (process.getuid?.() === 0) {
    // Root ignores permission bits; an immutable directory refuses even root.
    const chattr = spawnSync('chattr', ['+i', dir], { encoding: 'utf8' });
    if (chattr.status !== 0) return t.skip(`chattr +i not possible here: ${chattr.stderr || chattr.error?.message}`);
    t.after(() => spawnSync('chattr', ['-i', dir]));
  } else {
    chmodSync(dir, 0o555);
    t.after(() => chmodSync(dir, 0o700));
  }
  assertNamesTheFix(join(dir, 'h.db'), dir);
});

test('a storage.path below a regular file: a DatabaseFailure naming storage.path', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'hubnlu-lock-file-')), 'not-a-dir');
  writeFileSync(file, 'x');
  assertNamesTheFix(join(file, 'data', 'h.db'), join(file, 'data'));
});
