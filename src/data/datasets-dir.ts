/**
 * Where the public datasets are: the one resolver for every reader (train-defaults, the learning loop's retrain,
 * the benches). The datasets are not part of this repository, so there is no default directory: the caller's
 * explicit one (`--datasets`, `learning.datasets`), else `$HUBNLU_DATASETS`, else an error that says both ways.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The environment variable naming the datasets directory (not a setting: config/load.ts leaves it alone). */
export const DATASETS_ENV = 'HUBNLU_DATASETS';

/** Where the public sources are listed, for messages (inside the repository). */
const SOURCES = 'the README\'s "Data and licences" and each model card list the public sources';

/** The datasets directory was not given, or is not one. A usage / configuration problem (the CLI exits 2). */
export class DatasetsDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetsDirError';
  }
}

export interface DatasetsDirOptions {
  /** How the caller takes an explicit directory, for the message (default `--datasets DIR`). */
  readonly option?: string;
  /** Sub-folders the directory must hold (default intent and sentiment). */
  readonly needs?: readonly string[];
  /** Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Relative paths resolve against it (default the working directory). */
  readonly cwd?: string;
}

/**
 * The absolute datasets directory: `explicit`, else `$HUBNLU_DATASETS` (empty counts as unset), else a
 * {@link DatasetsDirError} naming both ways to give it. A directory without the `needs` folders is refused too,
 * naming where it came from.
 */
export function datasetsDir(explicit?: string, opts: DatasetsDirOptions = {}): string {
  const option = opts.option ?? '--datasets DIR';
  const needs = opts.needs ?? ['intent', 'sentiment'];
  const fromEnv = (opts.env ?? process.env)[DATASETS_ENV];
  const [chosen, source] = explicit ? [explicit, option.split(' ')[0]] : fromEnv ? [fromEnv, `$${DATASETS_ENV}`] : [undefined, undefined];
  const folders = needs.map((n) => `${n}/`).join(' and ');
  if (chosen === undefined) {
    throw new DatasetsDirError(
      `no datasets directory: give ${option} or set ${DATASETS_ENV} to the directory holding ${folders} (the public datasets are not part of this repository; ${SOURCES})`,
    );
  }
  const abs = resolve(opts.cwd ?? process.cwd(), chosen);
  const missing = needs.filter((n) => !isDir(join(abs, n)));
  if (missing.length) {
    throw new DatasetsDirError(
      `${source} ${abs}: ${isDir(abs) ? `no ${missing.map((n) => `${n}/`).join(' and ')} folder${missing.length > 1 ? 's' : ''} in it` : 'no such directory'}; point it at the datasets directory (holding ${folders})`,
    );
  }
  return abs;
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}
