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

process.once('message', (job: RetrainJob) => {
  const send = (m: unknown): Promise<void> => new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
  runRetrain(job, { ...silentProgress, log: (line: string) => void send({ type: 'progress', line }) }).then(
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
