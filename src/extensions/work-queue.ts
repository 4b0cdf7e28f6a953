/**
 * Work taken off the MQTT packet path: `push()` returns at once (so the message
 * is acknowledged and the next packet, an utterance perhaps, is handled), and the
 * jobs run one after another in the background. A job that throws is logged and
 * the queue goes on. Bounded: beyond `limit` queued jobs, `push()` reports false
 * and the caller answers "busy" instead of growing the heap.
 */
import type { Logger } from '../util/logger.js';

export class WorkQueue {
  private readonly jobs: Array<() => Promise<void>> = [];
  private running = false;
  private idle: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly log: Logger, private readonly limit = 1000) {}

  get depth(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  push(job: () => Promise<void>): boolean {
    if (this.stopped || this.jobs.length >= this.limit) return false;
    this.jobs.push(job);
    if (!this.running) void this.run();
    return true;
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.jobs.length > 0) {
      const job = this.jobs.shift()!;
      try {
        await job();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'queued job failed');
      }
    }
    this.running = false;
    const waiters = this.idle;
    this.idle = [];
    waiters.forEach((w) => w());
  }

  /** Refuses new jobs and waits for the queued ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.running) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
