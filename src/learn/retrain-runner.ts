/**
 * Runs a RetrainJob in a child process at lower CPU priority (nice 10), so
 * that an agent in this process keeps answering inputs while the candidate
 * trains. onnxruntime sessions, the trainer's buffers and the slot tagger all
 * live and die in the child.
 */
import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RetrainJob, RetrainOutcome } from './retrain.js';

const CHILD = fileURLToPath(new URL('./retrain-child.js', import.meta.url));

export function retrainInChild(job: RetrainJob, onProgress: (line: string) => void = () => undefined): Promise<RetrainOutcome> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    try {
      if (child.pid !== undefined) setPriority(child.pid, 10);
    } catch {
      // Not allowed here (containers without CAP_SYS_NICE may refuse): it still runs, at normal priority.
    }
    let settled = false;
    child.on('message', (m: { type: string; line?: string; outcome?: RetrainOutcome; message?: string }) => {
      if (m.type === 'progress' && m.line) onProgress(m.line);
      else if (m.type === 'done' && m.outcome) {
        settled = true;
        resolve(m.outcome);
      } else if (m.type === 'error') {
        settled = true;
        reject(new Error(m.message));
      }
    });
    child.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    child.on('exit', (code, signal) => {
      if (!settled) reject(new Error(`the training process ended without a result (${signal ?? `exit code ${code}`})`));
      settled = true;
    });
    child.send(job);
  });
}
