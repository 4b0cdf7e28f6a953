/**
 * src/cli is the top of the import graph: the commands build on the agent, the models, the store and the rest, and
 * nothing below imports the command line back (the agent once reached into src/cli for the label vocabulary, which
 * brought the CLI's context module into every agent). Read from the TypeScript sources, so that an `import type`
 * counts too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

const SRC = join(REPO_ROOT, 'src');
const CLI_DIR = join(SRC, 'cli') + sep;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative module specifier a file names: static imports and re-exports (`from '…'`) and dynamic `import('…')`. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bfrom\s*['"](\.[^'"]*)['"]|\bimport\s*\(\s*['"](\.[^'"]*)['"]\s*\)|^\s*import\s*['"](\.[^'"]*)['"]/gm)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

test('the scan sees imports: src/cli/main.ts imports its own commands', () => {
  // Guards the test below against a scan that finds nothing (a wrong directory, a regular expression that never matches).
  const main = join(SRC, 'cli', 'main.ts');
  const targets = specifiers(readFileSync(main, 'utf8')).map((s) => resolve(dirname(main), s));
  assert.ok(targets.some((t) => t.startsWith(CLI_DIR)), targets.join(', '));
  assert.ok(sources(SRC).length > 100);
});

test('nothing outside src/cli imports from src/cli', () => {
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    if (file.startsWith(CLI_DIR)) continue;
    for (const s of specifiers(readFileSync(file, 'utf8'))) {
      if (resolve(dirname(file), s).startsWith(CLI_DIR)) offenders.push(`${relative(REPO_ROOT, file)} imports ${s}`);
    }
  }
  assert.deepEqual(offenders, [], 'move what they need out of src/cli (a module beside its other users)');
});
