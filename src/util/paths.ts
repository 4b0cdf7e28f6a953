/**
 * Path resolution that works from `src/` (tsx), `dist/src/` (built) and any
 * working directory (systemd). Shipped assets (models, config) live relative to
 * the package root; user data (the database) relative to the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The directory holding hubnlu's package.json. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'hubnlu') return (cachedRoot = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the hubnlu package root (package.json named "hubnlu")');
    dir = parent;
  }
}

/** hubnlu's own version, from package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Absolute paths stay; relative ones resolve against the working directory when
 * `preferCwd` is set or the path exists there, else against the package root.
 */
export function resolveFromPackage(path: string, opts: { preferCwd?: boolean; cwd?: string } = {}): string {
  if (isAbsolute(path)) return path;
  const fromCwd = resolve(opts.cwd ?? process.cwd(), path);
  if (opts.preferCwd || existsSync(fromCwd)) return fromCwd;
  return resolve(packageRoot(), path);
}
