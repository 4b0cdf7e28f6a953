/**
 * Runs store maintenance on the configured cron schedule (util/cron.ts), never two at once.
 * A run deletes in small batches that yield to the event loop (see store/maintenance.ts);
 * `stop()` ends a run between two batches.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { scheduleCron, type CronTask } from '../util/cron.js';
import type { Logger } from '../util/logger.js';
import type { Db } from '../store/database.js';
import { runMaintenance, type MaintenanceResult } from '../store/maintenance.js';

export class MaintenanceSchedule {
  private task?: CronTask;
  private running?: Promise<MaintenanceResult | undefined>;
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly schedule: string,
    private readonly retentionDays: number | undefined,
    private readonly log: Logger,
    /** Told of an error a retry cannot fix (corrupt or read-only database); the agent stops. */
    private readonly onFatal?: (err: Error) => void,
  ) {}

  start(): void {
    this.task = scheduleCron(this.schedule, () => void this.runOnce());
  }

  /** One run; resolves with its result (undefined when it failed, or when one is already running or the schedule stopping). */
  runOnce(): Promise<MaintenanceResult | undefined> {
    if (this.running || this.stopping) return this.running ?? Promise.resolve(undefined);
    // How late the event loop ran timers meanwhile: what an acknowledgement or a keepalive could have waited (10 ms resolution).
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    this.running = runMaintenance(this.db, { retentionDays: this.retentionDays, shouldStop: () => this.stopping })
      .then(
        (result) => {
          delay.disable();
          this.log.info({ ...result, eventLoopDelayMaxMs: delay.max / 1e6 }, result.stopped ? 'maintenance interrupted by stop; the next run goes on' : 'maintenance done');
          return result;
        },
        (err: Error) => {
          delay.disable();
          if ((err as { fatal?: boolean }).fatal) this.onFatal?.(err);
          // A busy or full disk today is not a reason to stop the agent; the next run tries again.
          else this.log.warn({ err: err.message, code: (err as { code?: string }).code }, 'maintenance failed');
          return undefined;
        },
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Stops the schedule and waits for a run in progress to end (it stops after its current batch). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.task?.stop();
    this.task = undefined;
    await this.running;
  }
}
