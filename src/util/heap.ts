/**
 * Memory housekeeping for the long-running agent (issue 10, idle RSS).
 *
 * Start-up leaves garbage that V8 would otherwise hold for a while: the model files' bytes, the batched graphs built
 * in memory, parsed manifests and lexicons, the config file's parser and the config validator (both dropped after
 * use, see `requireForOnce`). V8's memory reducer collects it by itself some seconds after the process goes idle
 * (docs/performance.md, the sixth pass and the memory passes: 4–8 MB of RSS between 1 s and 10 s after ready, more or less depending on when
 * the last collection happened). `shrinkHeap` does that at once, before the agent says it is ready, so its idle
 * footprint does not depend on the timing; `collectGarbage` (one compacting full collection) is the fallback where
 * node has no inspector. Either costs 10–40 ms of start-up, once.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection that compacts all of the old generation. Without `--expose-gc` on the command line, V8's `gc` is fetched from a
 * fresh context with the flag set for that moment only (the agent's own global gets no `gc`). Returns whether it ran.
 */
export function collectGarbage(): boolean {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as (() => void) | undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  if (typeof gc !== 'function') return false;
  // Compacting every page, for this collection only: V8 otherwise evacuates only its most fragmented pages, and start-up
  // leaves old-space pages part empty (the freed model bytes, graphs and parsers between what lives on), 1-3 MB of
  // resident memory an idle agent would hold (docs/performance.md, the memory passes). The flag is read at each collection.
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
  return true;
}

/**
 * V8's low-memory collection, as an embedder calls it when the system runs short of memory: full collections in
 * "reduce memory footprint" mode, which also give the young generation back (it grew to its maximum while start-up
 * allocated; 2 × `--max-semi-space-size`, 8 MB as shipped) and drop compilation caches. V8's memory reducer does the
 * same by itself, but only some 8 s after the process goes quiet (docs/performance.md, the sixth pass); a plain full
 * collection (`collectGarbage`) never shrinks the young generation, and V8 11's `gc({type: 'major'})` runs a scavenge.
 * Node offers no direct call for it: the in-process inspector's `HeapProfiler.collectGarbage` is that call (no port
 * is opened; the session is closed again). Resolves whether it ran (false where node is built without the inspector).
 * The collection itself takes 20-40 ms on an idle agent's 11 MB heap.
 */
export async function shrinkHeap(): Promise<boolean> {
  let session: import('node:inspector').Session;
  try {
    const inspector = await import('node:inspector');
    session = new inspector.Session();
    session.connect();
  } catch {
    return false; // node built without the inspector
  }
  const post = (method: string) =>
    new Promise<void>((resolve, reject) => session.post(method, (err: Error | null) => (err ? reject(err) : resolve())));
  try {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.collectGarbage');
    await post('HeapProfiler.disable');
    return true;
  } catch {
    return false;
  } finally {
    session.disconnect();
  }
}

/**
 * Runs `use` with a `require` whose modules are dropped from the require cache afterwards: every CommonJS module
 * first loaded during `use` (a package needed once at start, such as the YAML parser) can then be collected with its
 * code and source text, as long as nothing it returned keeps a function of it. A module already loaded before
 * stays; one needed again later is simply loaded again.
 */
export function requireForOnce<T>(from: string | URL, use: (require: NodeJS.Require) => T): T {
  const require = createRequire(from);
  const before = new Set(Object.keys(require.cache));
  try {
    return use(require);
  } finally {
    for (const key of Object.keys(require.cache)) if (!before.has(key)) delete require.cache[key];
  }
}
