/**
 * The benches' datasets directory: `--datasets DIR`, else `$HUBNLU_DATASETS` (src/data/datasets-dir.ts, the one
 * resolver; the datasets are not part of the repository). Without one a bench stops before any work with the
 * resolver's message and exit 2 (a usage problem, as in the CLI), not a stack trace.
 */
import { datasetsDir, DatasetsDirError } from '../src/data/datasets-dir.js';

export function benchDatasets(explicit?: string): string {
  try {
    return datasetsDir(explicit);
  } catch (err) {
    if (!(err instanceof DatasetsDirError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
}
