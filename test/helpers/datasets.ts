/**
 * The public datasets for the tests that need real sentences. They are not part of the repository: a test reads
 * them only from `$HUBNLU_DATASETS` (as the code does, src/data/datasets-dir.ts) and is skipped, saying why, when it
 * is unset. `.ci/run` sets it where CI's machine keeps them. When it is set, a file a test needs and does not find
 * is a failure, not a skip: a wrong directory must not pass quietly.
 */
import { join, resolve } from 'node:path';

const dir = process.env.HUBNLU_DATASETS ? resolve(process.env.HUBNLU_DATASETS) : undefined;

/** node:test options for a test (or suite) that reads the datasets. */
export const needsDatasets: { readonly skip: string | false } = {
  skip: dir ? false : 'needs the public datasets, which are not part of the repository: set HUBNLU_DATASETS to their directory',
};

/** The datasets directory; only in a test marked {@link needsDatasets}. */
export function datasetsDir(): string {
  if (!dir) throw new Error('HUBNLU_DATASETS is not set: mark the test with needsDatasets');
  return dir;
}

/** A path inside the datasets directory (`datasetFile('intent', 'slurp.devel.jsonl')`); only under needsDatasets. */
export function datasetFile(...parts: string[]): string {
  return join(datasetsDir(), ...parts);
}
