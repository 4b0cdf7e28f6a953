/**
 * The child process a retrain runs in (forked by retrain-runner.ts): training
 * is seconds to minutes of CPU-bound work, and the agent's event loop must
 * keep answering meanwhile. Receives one RetrainJob over IPC, sends progress
 * lines and then the outcome (or the error), and exits.
 */
import { runRetrain, type RetrainJob } from './retrain.js';
import { silentProgress } from '../train/progress.js';

// The agent (or CLI) that started this run has gone: stop, leaving only a hidden staging directory.
process.once('disconnect', () => process.exit(1));

/**
 * Training runs in long synchronous stretches (every epoch of a phase in one go), so 'disconnect' is heard only
 * between them: a parent killed mid-training left this process training on, orphaned, for minutes. Every progress
 * call (each epoch) also checks that the parent is still there (an orphan is given another parent).
 */
const parent = process.ppid;
const stopIfOrphaned = (): void => {
  if (process.ppid !== parent) process.exit(1);
};

process.once('message', (job: RetrainJob) => {
  const send = (m: unknown): Promise<void> => new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
  const progress = {
    ...silentProgress,
    start: stopIfOrphaned,
    epoch: stopIfOrphaned,
    stop: stopIfOrphaned,
    log: (line: string) => {
      stopIfOrphaned();
      void send({ type: 'progress', line });
    },
  };
  runRetrain(job, progress).then(
    async (outcome) => {
      await send({ type: 'done', outcome });
      process.exit(0);
    },
    async (err: Error) => {
      await send({ type: 'error', message: err.message });
      process.exit(1);
    },
  );
});
