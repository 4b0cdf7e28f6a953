/**
 * The worker-thread side of WorkerAnalyzer (worker-analyzer.ts): loads the
 * model set named in workerData, answers analyze requests on the port it was
 * given, and on `close` lets the requests in progress finish, disposes the
 * models and closes the port (the thread then ends).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { ModelRegistry } from './registry.js';
import { LanguageRouter } from './language-router.js';
import { TASKS, type Analysis, type AnalyzeRequest, type Analyzer } from './types.js';
import type { FromThread, ThreadData, ToThread } from './worker-analyzer.js';

const data = workerData as ThreadData;
const port = data.port;
const send = (m: FromThread) => port.postMessage(m);

/**
 * Linux keeps a nice value per thread: this thread's id is the last part of /proc/thread-self
 * (`<pid>/task/<tid>`), and setpriority(2) on it touches this thread only. Done before the models load, so any
 * thread onnxruntime starts from here inherits it.
 */
function niceThisThread(nice: number): boolean {
  if (nice <= 0 || process.platform !== 'linux') return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, Math.min(19, nice));
    return true;
  } catch {
    return false;
  }
}

/** The model set's own batching, or one `analyze` at a time. */
function analyzeMany(models: Analyzer, requests: readonly AnalyzeRequest[]): Promise<Analysis[]> {
  if (models.analyzeMany) return models.analyzeMany(requests);
  return Promise.all(requests.map((r) => models.analyze(r.text, r.tasks, r.options)));
}

async function main(): Promise<void> {
  const niced = niceThisThread(data.nice);
  let models: Analyzer & { close(): Promise<void> };
  try {
    if (data.models.kind === 'registry') models = await ModelRegistry.load(data.models.options);
    else {
      const router = await LanguageRouter.load(data.models.options);
      models = router;
      if (data.models.warmUp) await router.warmUp();
    }
    for (const w of data.warmup) await models.analyze(w.text, w.tasks, w.options);
  } catch (err) {
    send({ type: 'load_failed', message: (err as Error).message });
    port.close();
    return;
  }
  const labels = Object.fromEntries(TASKS.map((t) => [t, models.labels(t)])) as Record<(typeof TASKS)[number], readonly string[]>;
  const inProgress = new Set<Promise<void>>();
  let closing = false;
  port.on('message', (m: ToThread) => {
    if (m.type === 'crash') process.exit(m.code);
    if (m.type === 'close') {
      if (closing) return;
      closing = true;
      void Promise.allSettled([...inProgress])
        .then(() => models.close())
        .finally(() => port.close());
      return;
    }
    const id = m.id;
    const job = (
      m.type === 'analyzeMany'
        ? analyzeMany(models, m.requests).then((analyses) => send({ type: 'results', id, analyses }))
        : models.analyze(m.text, m.tasks, m.options).then((analysis) => send({ type: 'result', id, analysis }))
    ).catch((err: Error) => send({ type: 'error', id, message: err.message }));
    inProgress.add(job);
    void job.finally(() => inProgress.delete(job));
  });
  send({ type: 'ready', models: models.loadedModels(), labels, unknownThreshold: models.unknownThreshold, niced });
}

await main();
