/**
 * A diagnostic (issue 10, the latency tail at 1,000 msg/s): with
 * `HUBNLU_LATENCY_TRACE=<file>` in the environment the agent stamps each input
 * at each stage of its way to a result (arrival, picked by the worker, models
 * done, input and result committed, result handed to MQTT, PUBACK) and notes the event loop's
 * stalls, V8's GC pauses and the pauses of the commits in which the WAL starts over; at exit it writes them all to `<file>` as JSON.
 * Times are ms since the epoch (`performance.timeOrigin + performance.now()`),
 * comparable across processes on one machine (bench/latency-trace.ts joins them
 * with the publisher's). Without the variable `trace` is undefined and the hot
 * path pays one optional call that does nothing.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';

export type Stage = 'arrived' | 'queued' | 'analyzed' | 'stored' | 'sent' | 'puback';

const now = (): number => performance.timeOrigin + performance.now();

export class LatencyTrace {
  private readonly stamps = new Map<string, Partial<Record<Stage, number>>>();
  private readonly bySeq = new Map<number, string>();
  /** Event-loop turns that started late: [when the timer should have fired, how late (ms)]. */
  private readonly stalls: Array<[number, number]> = [];
  private readonly gc: Array<[number, number, number]> = [];
  /** Pauses of the agent's commits while the WAL starts over (store/checkpointer.ts): [start, ms, the thread's checkpoint ms or -1]. */
  private readonly walPauses: Array<[number, number, number]> = [];
  private readonly delay = monitorEventLoopDelay({ resolution: 1 });

  constructor(private readonly file: string) {
    this.delay.enable();
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gc.push([performance.timeOrigin + e.startTime, e.duration, (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0]);
    });
    obs.observe({ entryTypes: ['gc'] });
    const period = 2;
    let due = now() + period;
    const tick = (): void => {
      const t = now();
      if (t - due > 3) this.stalls.push([due, t - due]);
      due = t + period;
      setTimeout(tick, period).unref();
    };
    setTimeout(tick, period).unref();
    process.once('exit', () => this.write());
  }

  stamp(id: string, stage: Stage, at = now()): void {
    let s = this.stamps.get(id);
    if (!s) this.stamps.set(id, (s = {}));
    s[stage] ??= at;
  }

  /** The outbox row `seq` carries the result of input `id`. */
  alias(seq: number, id: string): void {
    this.bySeq.set(seq, id);
  }

  stampSeq(seq: number, stage: Stage): void {
    const id = this.bySeq.get(seq);
    if (id !== undefined) this.stamp(id, stage);
  }

  /** A pause of the commits that began at `since` (performance.now()) has ended; `checkpointMs`: the thread's checkpoint in it (undefined: it did not answer). */
  walPause(since: number, checkpointMs: number | undefined): void {
    this.walPauses.push([performance.timeOrigin + since, performance.now() - since, checkpointMs ?? -1]);
  }

  private write(): void {
    const d = this.delay;
    writeFileSync(
      this.file,
      JSON.stringify({
        // performance.now() + this = CLOCK_MONOTONIC ms (the clock of a --cpu-prof profile's timestamps, in µs).
        monotonicOriginMs: Number(process.hrtime.bigint()) / 1e6 - performance.now(),
        timeOrigin: performance.timeOrigin,
        loopDelayMs: { p50: d.percentile(50) / 1e6, p99: d.percentile(99) / 1e6, max: d.max / 1e6 },
        stalls: this.stalls,
        gc: this.gc,
        walPauses: this.walPauses,
        stamps: Object.fromEntries(this.stamps),
      }),
    );
  }
}

const file = process.env.HUBNLU_LATENCY_TRACE;
export const trace: LatencyTrace | undefined = file ? new LatencyTrace(file) : undefined;
/** performance.now() as an epoch time (the trace's clock). */
export const epochOf = (perfNow: number): number => performance.timeOrigin + perfNow;
