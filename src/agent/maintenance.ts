/** Runs store maintenance on the configured cron schedule (node-cron), never two at once. */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../util/logger.js';
import type { Db } from '../store/database.js';
import { runMaintenance } from '../store/maintenance.js';

export class MaintenanceSchedule {
  private task?: ScheduledTask;

  constructor(
    private readonly db: Db,
    private readonly schedule: string,
    private readonly retentionDays: number | undefined,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.task = cron.schedule(this.schedule, () => this.runOnce(), { name: 'hubnlu-maintenance', noOverlap: true });
  }

  runOnce(): void {
    try {
      const result = runMaintenance(this.db, { retentionDays: this.retentionDays });
      this.log.info(result, 'maintenance done');
    } catch (err) {
      // A busy or full disk today is not a reason to stop the agent; the next run tries again.
      this.log.warn({ err: (err as Error).message }, 'maintenance failed');
    }
  }

  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = undefined;
  }
}
