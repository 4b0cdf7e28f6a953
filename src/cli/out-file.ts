/** `--out FILE` of the commands that write one (`export`, `report`, `quantize`, `prune`; train's `--holdout-file`): checked before any work. */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

/**
 * The absolute path `--out` names. A directory is a usage error (exit 2, with a file name to give instead), a
 * directory that does not exist a failure (exit 1): both found now, not after minutes of work, and never as the
 * rename's EISDIR naming a temporary file. An existing SQLite file (the log, most likely) is never replaced (exit 2).
 */
export function outPath(value: string, example: string, option = '--out', orStdout = ''): string {
  const out = resolve(value);
  const st = existsSync(out) ? statSync(out) : null;
  if (st?.isDirectory()) throw new CliError(`${option} ${out}: a directory; give a file name, e.g. ${join(out, example)}`, EXIT.usage);
  // The file is written beside and renamed over the path: a FIFO, a device or /dev/stdout (a symlink) would be replaced.
  if (st && !st.isFile()) throw new CliError(`${option} ${out}: not a regular file (${kind(st)}); it would be replaced: give a file name${orStdout}`, EXIT.usage);
  // `hubnlu export --out data/hubnlu.db` (the options mixed up) would rename the export over the log: never.
  if (isSqliteFile(out)) throw new CliError(`${option} ${out}: an SQLite database (the log?); not overwritten: give another file name, e.g. ${join(dirname(out), example)}`, EXIT.usage);
  if (!existsSync(dirname(out))) throw cannotWrite(out, 'ENOENT');
  return out;
}

function kind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0');

function isSqliteFile(path: string): boolean {
  // Regular files only: opening a FIFO would wait for a writer.
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } finally {
    closeSync(fd);
  }
}

export function cannotWrite(out: string, code: string): CliError {
  return new CliError(`cannot write ${out}: ${code}${code === 'ENOENT' ? ' (does its directory exist?)' : ''}`, EXIT.failure);
}

/** Writes `text` to a temporary file beside `out` and renames it into place; on failure the temporary file is removed. */
export function writeOut(out: string, text: string): void {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw cannotWrite(out, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}
