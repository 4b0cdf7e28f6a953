/**
 * A separate process that holds SQLite's write lock on a database, as another
 * program (a backup tool, a `sqlite3` shell left in a transaction) would.
 * Run: `node db-lock-holder.js <db>`; prints `locked` once it holds the lock and
 * commits and exits when its stdin ends or receives a line `release`.
 * Not a test file: `holdWriteLock()` in faults.ts starts it.
 */
import Database from 'better-sqlite3';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: db-lock-holder <database>\n');
  process.exit(2);
}
const db = new Database(path, { timeout: 10_000 });
// In WAL mode EXCLUSIVE behaves as IMMEDIATE: readers go on, every other writer gets SQLITE_BUSY.
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\n');

let released = false;
const release = (): void => {
  if (released) return;
  released = true;
  db.exec('COMMIT');
  db.close();
  process.stdout.write('released\n');
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  if (chunk.split('\n').some((line) => line.trim() === 'release')) release();
});
process.stdin.on('end', release);
