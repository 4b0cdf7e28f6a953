/**
 * Reading a data file given on the command line (`--data`, `--dev`,
 * `--unlabelled`), line by line and bounded: only regular files (never
 * /dev/zero, a FIFO or a directory), at most `maxBytes` in all and
 * `maxLineBytes` a line, read in chunks so memory stays small whatever the
 * file holds. The SHA-256 of the bytes read comes back with the lines, so a
 * model can record exactly which files trained it and `hubnlu eval` can warn
 * when it is scored on one of them.
 *
 * Errors name the file, the line number and the fix, never the line's content
 * (a wrong path such as /etc/passwd must not be echoed into the output).
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';

export interface InputLimits {
  /** The largest file accepted (bytes). The biggest shipped dataset is 9.1 MB. */
  readonly maxBytes: number;
  /** The longest line accepted (bytes, without the line break). Dataset lines are under 2 KB. */
  readonly maxLineBytes: number;
}

export const INPUT_LIMITS: InputLimits = { maxBytes: 256 * 1024 * 1024, maxLineBytes: 64 * 1024 };

export interface FileDigest {
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  readonly bytes: number;
  /** Lines seen, counting empty ones. */
  readonly lines: number;
}

/** A file that cannot be read as input; the message names the file (and line) and the fix. */
export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

const CHUNK = 64 * 1024;
const decoder = new TextDecoder('utf-8');

function kind(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

const mib = (n: number): string => `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB`;

/**
 * Calls `onLine(text, lineNumber)` for each line of `file` (1-based, the line
 * break removed, decoded as UTF-8) and returns the file's digest. `onLine` may
 * throw; the error propagates and the file is closed.
 */
export function readFileLines(file: string, onLine: (line: string, n: number) => void, limits: InputLimits = INPUT_LIMITS): FileDigest {
  let st: Stats;
  try {
    // stat, not open, first: opening a FIFO would block until a writer appears.
    st = statSync(file);
  } catch (e) {
    // Not "set --datasets": every command reads these paths as given (--data, --dev, --import …), and only train-defaults has --datasets.
    throw new InputFileError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
  }
  if (!st.isFile()) throw new InputFileError(`${file}: ${kind(st)}, not a data file; give a regular JSONL file`);
  if (st.size > limits.maxBytes) throw new InputFileError(`${file}: ${mib(st.size)}, over the ${mib(limits.maxBytes)} limit for an input file; split it or give a smaller file`);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new InputFileError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and its permissions`);
  }
  try {
    // The path could have been swapped between the stat and the open.
    const fst = fstatSync(fd);
    if (!fst.isFile()) throw new InputFileError(`${file}: ${kind(fst)}, not a data file; give a regular JSONL file`);
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(CHUNK);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    let lineNo = 0;
    const emit = (parts: Buffer[]): void => {
      lineNo++;
      const line = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      onLine(decoder.decode(line), lineNo);
    };
    const tooLong = (): InputFileError =>
      new InputFileError(`${file}:${lineNo + 1}: line longer than ${limits.maxLineBytes} bytes; each line must be one JSON object (or one sentence), is this the right file?`);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, CHUNK, null);
      } catch (e) {
        throw new InputFileError(`${file}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (n === 0) break;
      total += n;
      if (total > limits.maxBytes) throw new InputFileError(`${file}: grew past the ${mib(limits.maxBytes)} limit for an input file while being read; give a file that is not being written`);
      const data = chunk.subarray(0, n);
      hash.update(data);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
        const piece = data.subarray(start, nl);
        if (pendingBytes + piece.length > limits.maxLineBytes) throw tooLong();
        // Copy: `chunk` is reused by the next read.
        emit(pendingBytes ? [...pending, Buffer.from(piece)] : [Buffer.from(piece)]);
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
      }
      if (start < n) {
        const rest = data.subarray(start);
        if (pendingBytes + rest.length > limits.maxLineBytes) throw tooLong();
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
    if (pendingBytes > 0) emit(pending);
    return { sha256: hash.digest('hex'), bytes: total, lines: lineNo };
  } finally {
    closeSync(fd);
  }
}
