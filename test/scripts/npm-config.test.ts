/**
 * Every npm/npx call warned `Unknown project config "onnxruntime-node-install"`
 * (issue 7, defect 13a): the project's .npmrc carried a key npm does not know.
 * The CUDA download of onnxruntime-node's install script is now denied through
 * package.json's `allowScripts` (npm versions that read it) and the
 * ONNXRUNTIME_NODE_INSTALL=skip environment variable (.ci/run, scripts/install.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

/** The environment without anything that would skip the download on its own. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(ONNXRUNTIME_NODE_INSTALL|npm_config_onnxruntime_node_install)/i.test(k)) delete env[k];
  return env;
}

test('npm runs in the project without an unknown-config warning', () => {
  const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: REPO_ROOT, encoding: 'utf8', env: cleanEnv() });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '"hubnlu"');
  assert.doesNotMatch(r.stderr, /Unknown (project|user|global) config/);
});

test('package.json allows better-sqlite3\'s build and denies onnxruntime-node\'s CUDA download', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
  assert.equal(pkg.allowScripts?.['better-sqlite3'], true);
});

test('CI and the service install skip the download for npm versions without allowScripts', () => {
  for (const file of ['.ci/run', 'scripts/install.sh']) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    const at = text.search(/^\s*export ONNXRUNTIME_NODE_INSTALL=skip\b/m);
    assert.ok(at >= 0, `${file} does not export ONNXRUNTIME_NODE_INSTALL=skip`);
    assert.ok(at < text.search(/^\s*npm ci\b/m), `${file}: the variable must be set before npm ci`);
  }
});

const npmReadsAllowScripts = spawnSync('npm', ['config', 'get', 'allow-scripts'], { encoding: 'utf8' }).stdout.trim() !== 'undefined';

test('onnxruntime-node\'s install script does not run (offline-safe: no NuGet download)', { skip: npmReadsAllowScripts ? false : 'this npm does not read package.json allowScripts' }, () => {
  const r = spawnSync('npm', ['rebuild', 'onnxruntime-node', '--foreground-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /Downloading|nuget/i);
});
