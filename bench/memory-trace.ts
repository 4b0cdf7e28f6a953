/**
 * Preloaded (`node --import`) into a `hubnlu run` by `bench/memory.ts --trace`: records which modules the agent loads
 * and, on SIGUSR2, writes them with `process.memoryUsage()` and V8's heap spaces to $HUBNLU_MEMORY_TRACE (JSON).
 * ES modules are seen by a loader hook (which runs on its own thread: the RSS of a traced agent is not the agent's);
 * CommonJS modules are read from the require cache.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';

const out = process.env.HUBNLU_MEMORY_TRACE;

/** The loader hook (this same file, loaded again on the hooks thread): appends each ES module URL it loads. */
export async function load(url: string, context: unknown, next: (url: string, context: unknown) => Promise<unknown>): Promise<unknown> {
  if (out) appendFileSync(`${out}.esm`, `${url}\n`);
  return next(url, context);
}

// On the main thread only (the hooks thread has no `process.send`-style main; `register` exists on both, guard by a flag).
if (out && !(globalThis as { __hubnluTraceHooks?: boolean }).__hubnluTraceHooks) {
  (globalThis as { __hubnluTraceHooks?: boolean }).__hubnluTraceHooks = true;
  if (process.env.HUBNLU_MEMORY_TRACE_MAIN !== 'done') {
    process.env.HUBNLU_MEMORY_TRACE_MAIN = 'done';
    register(import.meta.url, import.meta.url);
    process.on('SIGUSR2', () => {
      const cache = (createRequire(import.meta.url)('node:module') as { _cache: Record<string, unknown> })._cache;
      let esm: string[] = [];
      try {
        esm = [...new Set(readFileSync(`${out}.esm`, 'utf8').split('\n').filter(Boolean))];
      } catch {
        // no ES module recorded
      }
      writeFileSync(
        out,
        JSON.stringify({
          memoryUsage: process.memoryUsage(),
          heapSpaces: getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size })),
          esm,
          cjs: Object.keys(cache),
        }),
      );
    });
  }
}
