/**
 * The retraining child (retrain-runner.ts) when the process that started it dies without a word (SIGKILL, a crash,
 * `kill <pid>` of a `hubnlu train --with-log-labels`): it stops at its next epoch instead of training on, orphaned,
 * at nice 10 for minutes. Real processes, a real (tiny, long) training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/cli.js';
import { tinyRows } from '../train/tiny-data.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

test('a retraining child whose parent is killed stops instead of training on, orphaned', { skip: existsSync('/proc/self/task') ? false : 'needs /proc', timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-retrain-orphan-'));
  const data = join(dir, 'tiny.jsonl');
  writeFileSync(data, tinyRows().map((r) => JSON.stringify({ text: r.text, intent: r.label })).join('\n') + '\n');
  const runner = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'learn', 'retrain-runner.js')).href;
  // Epochs enough for minutes of training: without the check the child would be at it long after its parent.
  const job = {
    baseDir: join(REPO_ROOT, 'models', 'intent'),
    publicTrain: [data],
    publicUnlabelled: null,
    publicDev: [],
    householdTrain: [],
    householdTest: [],
    householdRepeat: 1,
    seed: 1,
    outDir: join(dir, 'out'),
    name: 'orphan-test',
    version: 'v0001',
    maxDevDrop: 0.5,
    recipe: { epochs: 100_000, slots: false, selfTrainRounds: 0 },
  };
  const driver = join(dir, 'driver.mjs');
  writeFileSync(driver, `import { retrainInChild } from ${JSON.stringify(runner)};\nretrainInChild(${JSON.stringify(job)}, (line) => console.log(line));\n`);
  const parent = spawn(process.execPath, [driver], { stdio: ['ignore', 'pipe', 'inherit'] });
  let child: number | undefined;
  try {
    // The child is training once it reports the candidate's training (a progress line over IPC).
    await new Promise<void>((resolve, reject) => {
      parent.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('training the candidate')) resolve();
      });
      parent.once('exit', (code) => reject(new Error(`driver exited (${code}) before the training started`)));
    });
    [child] = childrenOf(parent.pid!);
    assert.ok(child !== undefined && alive(child), 'the training child runs');
    parent.kill('SIGKILL');
    // It notices at its next epoch (milliseconds here); the bound only keeps a failing run from hanging.
    const until = Date.now() + 60_000;
    while (alive(child) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(child), false, 'the orphaned child stopped');
  } finally {
    if (child !== undefined && alive(child)) process.kill(child, 'SIGKILL');
    if (parent.exitCode === null) parent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
