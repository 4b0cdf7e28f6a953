/**
 * Which modules a piece of code loads: runs `script` (an ES module body) in a fresh node with a loader hook that
 * records every ES module it loads, and the require cache (CommonJS) at the end. For tests that keep packages out
 * of the running agent (issue 10, idle RSS).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_MODULES_FILE, url + '\\n');
  return next(url, context);
}`;

const REGISTER = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));`;

/** Paths (file URLs decoded) of the modules loaded while `script` ran, e.g. `await import('/x/dist/src/cli/commands/run.js')`. */
export function modulesLoadedBy(script: string, env: Record<string, string> = {}, cwd?: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-modules-'));
  const file = join(dir, 'loaded.txt');
  try {
    const body = `${script}\nconst { createRequire } = await import('node:module');\nconsole.log(JSON.stringify(Object.keys(createRequire(import.meta.url)('node:module')._cache)));`;
    const out = execFileSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', body], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, LOADED_MODULES_FILE: file },
      cwd,
      encoding: 'utf8',
    });
    const cjs = JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[];
    let esm: string[] = [];
    try {
      esm = readFileSync(file, 'utf8').split('\n').filter((u) => u.startsWith('file:'));
    } catch {
      // no ES module loaded
    }
    return [...new Set([...esm.map((u) => decodeURIComponent(new URL(u).pathname)), ...cjs])];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The packages (`node_modules/<name>` or `<@scope/name>`) among `paths`. */
export function packagesOf(paths: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const p of paths) {
    const i = p.lastIndexOf('/node_modules/');
    if (i < 0) continue;
    const [a, b] = p.slice(i + '/node_modules/'.length).split('/');
    out.add(a.startsWith('@') ? `${a}/${b}` : a);
  }
  return out;
}

export const fileUrl = (path: string) => pathToFileURL(path).href;
