import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseFailure, DatabaseFailure, isFatalDatabaseError } from '../../src/store/failure.js';
import { DatabaseFileWatch } from '../../src/store/file-watch.js';
import { openDatabase } from '../../src/store/database.js';
import { LogStore } from '../../src/store/log-store.js';
import { retryUntilDone } from '../../src/util/retry.js';

const err = (code: string): Error => Object.assign(new Error(code.toLowerCase()), { code });

test('retried: busy, locked, full, I/O errors; fatal: corrupt, not a database, read-only, cannot open, OS permission errors', () => {
  for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'ENOSPC']) {
    assert.equal(isFatalDatabaseError(err(code)), false, code);
  }
  for (const code of ['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_NOTADB', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_CANTOPEN', 'EROFS', 'EACCES', 'EPERM']) {
    assert.equal(isFatalDatabaseError(err(code)), true, code);
  }
  const f = databaseFailure(err('SQLITE_READONLY_DBMOVED'), '/var/lib/hubnlu/hubnlu.db', 'storing an input');
  assert.ok(f instanceof DatabaseFailure && f.fatal && f.code === 'SQLITE_READONLY_DBMOVED');
  assert.match(f.message, /^\/var\/lib\/hubnlu\/hubnlu\.db: database error while storing an input \(SQLITE_READONLY_DBMOVED: .*moved or deleted/);
});

test('a file hubnlu may not write: the OS code once, and the fix names storage.path', () => {
  // Node's own messages start with the code (`EPERM: operation not permitted, chmod …`): not repeated.
  const os = Object.assign(new Error("EPERM: operation not permitted, chmod '/var/lib/hubnlu/hubnlu.db'"), { code: 'EPERM' });
  const f = databaseFailure(os, '/var/lib/hubnlu/hubnlu.db', 'opening it');
  assert.match(f.message, /^\/var\/lib\/hubnlu\/hubnlu\.db: database error while opening it \(EPERM: operation not permitted, chmod /);
  assert.ok(!f.message.includes('EPERM: EPERM'), f.message);
  assert.match(f.message, /storage\.path/);
  // SQLite's messages do not start with their code: it stays in front.
  assert.match(databaseFailure(err('SQLITE_READONLY'), '/x.db', 'opening it').message, /\(SQLITE_READONLY: sqlite_readonly\);.*storage\.path/);
});

test('retryUntilDone throws a fatal error at once and retries the others', async () => {
  let calls = 0;
  await assert.rejects(
    retryUntilDone(() => {
      calls++;
      throw new DatabaseFailure('gone', 'x', 'DELETED');
    }, { shouldStop: () => false, onError: () => undefined }),
    /gone/,
  );
  assert.equal(calls, 1);
  calls = 0;
  const value = await retryUntilDone(() => {
    if (++calls < 3) throw err('SQLITE_BUSY');
    return 'stored';
  }, { shouldStop: () => false, onError: () => undefined });
  assert.equal(value, 'stored');
  assert.equal(calls, 3);
});

test('the file watch: a deleted database makes the next write fail (after its commit) and tells the guard once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-watch-'));
  const path = join(dir, 'h.db');
  const db = openDatabase(path);
  const watch = new DatabaseFileWatch(path, 60_000);
  const told: DatabaseFailure[] = [];
  watch.start((e) => told.push(e));
  const store = new LogStore(db, { path, afterWrite: () => watch.check(), onFatal: (e) => told.push(e) });
  const input = (id: string) => ({ id, idSource: 'payload' as const, deliveryKey: id, receivedAt: 1, topic: 't', siteId: 's', text: 'hi', tasks: ['intent'], resultTopic: 'r' });
  assert.equal(store.recordInput(input('a')).duplicate, false);
  rmSync(path);
  assert.throws(() => store.recordInput(input('b')), (e: Error) => e instanceof DatabaseFailure && e.code === 'DELETED' && e.message.includes(path));
  assert.equal(told.length, 1);
  watch.stop();
  db.close();
});
