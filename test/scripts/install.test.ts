/**
 * scripts/install.sh on a fresh copy of the repository (issue 7, defect 5: the
 * README's service steps stopped at `tsc: not found`). It runs the whole
 * install into a temporary root, as far as a container allows: the full
 * `npm ci`, the build and `npm prune --omit=dev`, the system user (when the
 * test runs as root), the directories and their modes, the unit installed
 * and checked with `systemd-analyze verify`; enabling is skipped (--root).
 *
 * Slow (a real `npm ci` that compiles better-sqlite3): minutes, not seconds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

const IS_ROOT = process.getuid?.() === 0;
const HAVE_ANALYZE = spawnSync('systemd-analyze', ['--version']).status === 0;
const USER = `hubnlu-t${process.pid % 100000}`;
const PREFIX = '/opt/hubnlu-test';

let work: string;
// Slow (a fresh `npm ci` compiles better-sqlite3: minutes): off in `npm test`, on with `npm run test:install` (and in .ci/run).
const SLOW = process.env.HUBNLU_SLOW_TESTS === '1';
let fresh: string;
let root: string;
let run: { status: number | null; stdout: string; stderr: string };

function sh(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

before(() => {
  if (!HAVE_ANALYZE || !SLOW) return;
  work = mkdtempSync(join(tmpdir(), 'hubnlu-install-'));
  fresh = join(work, 'src');
  root = join(work, 'root');
  // A fresh copy: the tracked files as they are in the working tree, no node_modules, no dist.
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(files.status, 0, files.stderr);
  const list = join(work, 'files');
  const existing = files.stdout.split('\0').filter((f) => f && existsSync(join(REPO_ROOT, f)));
  writeFileSync(list, existing.join('\0'));
  sh('mkdir', ['-p', fresh]);
  sh('bash', ['-c', `tar -C "${REPO_ROOT}" --null -T "${list}" -cf - | tar -C "${fresh}" -xf -`]);
  assert.ok(!existsSync(join(fresh, 'node_modules')) && !existsSync(join(fresh, 'dist')));
  const r = spawnSync('bash', [join(fresh, 'scripts', 'install.sh'), '--root', root, '--prefix', PREFIX, '--user', USER], {
    cwd: work,
    encoding: 'utf8',
    timeout: 20 * 60_000,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: '' },
  });
  run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (IS_ROOT && spawnSync('getent', ['passwd', USER]).status === 0) spawnSync('userdel', [USER]);
});

const skip = !SLOW
  ? 'slow: set HUBNLU_SLOW_TESTS=1 (npm run test:install)'
  : HAVE_ANALYZE
    ? false
    : 'systemd-analyze is not installed (apt-get install systemd; .ci/run does)';

test('install.sh builds, prunes and installs the package from a fresh copy', { skip }, () => {
  assert.equal(run.status, 0, `install.sh failed:\n${run.stdout}\n${run.stderr}`);
  const pkg = join(root, PREFIX);
  assert.ok(existsSync(join(pkg, 'dist', 'src', 'cli', 'main.js')), 'no build output');
  assert.ok(existsSync(join(pkg, 'node_modules', 'onnxruntime-node')), 'runtime dependencies missing');
  assert.ok(!existsSync(join(pkg, 'node_modules', 'typescript')), 'dev dependencies left after npm prune --omit=dev');
  assert.ok(existsSync(join(pkg, 'models', 'intent', 'manifest.json')));
  // The installed package runs and classifies with the shipped models.
  const c = spawnSync(process.execPath, [join(pkg, 'dist', 'src', 'cli', 'main.js'), 'classify', 'turn off the kitchen lights', '--compact'], { cwd: work, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(c.status, 0, c.stderr);
  assert.equal((JSON.parse(c.stdout) as { intent: { name: string } }).intent.name, 'iot_hue_lightoff');
  // No staging directory left next to it.
  assert.deepEqual(spawnSync('ls', [join(root, 'opt')], { encoding: 'utf8' }).stdout.trim().split('\n'), ['hubnlu-test']);
});

test('install.sh creates the configuration and state directories with their modes', { skip }, () => {
  assert.equal(run.status, 0, run.stderr);
  const mode = (p: string) => statSync(p).mode & 0o777;
  assert.equal(mode(join(root, 'etc', 'hubnlu')), 0o750);
  assert.equal(mode(join(root, 'etc', 'hubnlu', 'hubnlu.yaml')), 0o640);
  assert.equal(readFileSync(join(root, 'etc', 'hubnlu', 'hubnlu.yaml'), 'utf8'), readFileSync(join(fresh, 'config', 'hubnlu.example.yaml'), 'utf8'));
  assert.equal(mode(join(root, 'var', 'lib', 'hubnlu')), 0o700);
});

test('install.sh creates the system user and gives it the state directory (root only)', { skip: skip || (IS_ROOT ? false : 'not root: useradd needs root') }, () => {
  assert.equal(run.status, 0, run.stderr);
  const pw = spawnSync('getent', ['passwd', USER], { encoding: 'utf8' });
  assert.equal(pw.status, 0, `user ${USER} was not created`);
  const [, , uid, , , home, shell] = pw.stdout.trim().split(':');
  assert.ok(Number(uid) < 1000, `not a system user (uid ${uid})`);
  assert.equal(home, '/var/lib/hubnlu');
  assert.match(shell, /nologin$/);
  assert.equal(statSync(join(root, 'var', 'lib', 'hubnlu')).uid, Number(uid));
  assert.equal(statSync(join(root, 'etc', 'hubnlu', 'hubnlu.yaml')).uid, 0);
});

test('install.sh installs the unit with the prefix, user and node filled in, and it passes systemd-analyze verify', { skip }, () => {
  assert.equal(run.status, 0, run.stderr);
  const unitPath = join(root, 'etc', 'systemd', 'system', 'hubnlu.service');
  const unit = readFileSync(unitPath, 'utf8');
  assert.match(unit, new RegExp(`^ExecStart=\\S*node ${PREFIX}/dist/src/cli/main\\.js run$`, 'm'));
  assert.match(unit, new RegExp(`^User=${USER}$`, 'm'));
  assert.doesNotMatch(unit, /\/opt\/hubnlu\//);
  const v = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.doesNotMatch(v.stdout + v.stderr, /hubnlu\.service/);
  assert.match(run.stdout, /systemd-analyze verify: ok/);
  // --root: nothing enabled, and it says so.
  assert.match(run.stdout, /enable it on the target system/);
});

// Fast (argument checks only, before anything is copied or built): runs in `npm test`.
test('install.sh refuses a bad command line with exit 2 and its usage line, before it touches anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-install-usage-'));
  try {
    const target = join(dir, 'root');
    const cases: Array<[string[], RegExp]> = [
      [['--bogus'], /unknown option --bogus/],
      [['--prefix'], /--prefix needs a directory/],
      [['--prefix', 'relative/dir'], /--prefix must be an absolute path/],
      [['--user', 'Not A User'], /--user Not A User: not a valid user name/],
    ];
    for (const [args, message] of cases) {
      // --root first: were the bad option let through, the install would stay inside the temporary directory.
      const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'install.sh'), '--root', target, '--no-user', '--no-enable', ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /^Usage: .*install\.sh \[--prefix DIR\] \[--root DIR\]/m, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      assert.ok(!existsSync(target), `${args.join(' ')}: ${target} was created`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
