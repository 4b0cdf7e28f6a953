/**
 * The numbers behind `bridge/health` and the Home Assistant sensors: one
 * snapshot function over counters the pipeline already keeps, plus a small
 * window of recent latencies and acceptance times.
 */
import { statSync } from 'node:fs';
import type { HealthSnapshot } from '../extensions/extension.js';

export interface HealthSources {
  readonly counts: () => HealthSnapshot['counts'];
  readonly inFlight: () => number;
  readonly outboxUnpublished: () => number;
  /** Results the broker refused (migration 6); absent: 0. */
  readonly outboxRefused?: () => number;
  readonly connected: () => boolean;
  /** The database file; `:memory:` reports 0 bytes. */
  readonly databasePath: string;
}

/** Latencies kept for the percentiles: the most recent results, at most this many. */
const LATENCY_WINDOW = 1024;
const MINUTE_MS = 60_000;

export class HealthMonitor {
  private readonly latencies = new Float64Array(LATENCY_WINDOW);
  private latencyCount = 0;
  private latencyNext = 0;
  /** Acceptance times (ms) within the last minute, oldest first. */
  private accepted: number[] = [];
  private acceptedHead = 0;
  private readonly startedAt: number;

  constructor(private readonly sources: HealthSources, private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** An input was accepted (counts towards inputs per minute). */
  noteAccepted(): void {
    const now = this.now();
    this.accepted.push(now);
    // Drop what is over a minute old here too, not only when someone reads the rate: with no reader (bridge and Home
    // Assistant off, or a health cron far apart) the array grew by one number per input for as long as the agent ran
    // (the soak, bench/soak.ts). Compact now and then so the array itself does not grow under a steady flow either.
    this.dropOlderThan(now - MINUTE_MS);
    if (this.acceptedHead > 4096 && this.acceptedHead * 2 > this.accepted.length) {
      this.accepted = this.accepted.slice(this.acceptedHead);
      this.acceptedHead = 0;
    }
  }

  private dropOlderThan(since: number): void {
    while (this.acceptedHead < this.accepted.length && this.accepted[this.acceptedHead] < since) this.acceptedHead++;
  }

  /** A result was committed, `latencyMs` after receipt. */
  noteLatency(latencyMs: number): void {
    this.latencies[this.latencyNext] = latencyMs;
    this.latencyNext = (this.latencyNext + 1) % LATENCY_WINDOW;
    if (this.latencyCount < LATENCY_WINDOW) this.latencyCount++;
  }

  inputsPerMinute(): number {
    this.dropOlderThan(this.now() - MINUTE_MS);
    return this.accepted.length - this.acceptedHead;
  }

  latencyPercentiles(): HealthSnapshot['latencyMs'] {
    if (this.latencyCount === 0) return null;
    const sorted = Array.from(this.latencies.subarray(0, this.latencyCount)).sort((a, b) => a - b);
    const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(3));
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  }

  databaseBytes(): number {
    const path = this.sources.databasePath;
    if (path === ':memory:') return 0;
    let total = 0;
    for (const file of [path, `${path}-wal`]) {
      try {
        total += statSync(file).size;
      } catch {
        // no WAL file right now
      }
    }
    return total;
  }

  snapshot(): HealthSnapshot {
    const mem = process.memoryUsage();
    let outboxUnpublished = -1;
    try {
      outboxUnpublished = this.sources.outboxUnpublished();
    } catch {
      // database busy: report -1 rather than fail the health report
    }
    let outboxRefused = -1;
    try {
      outboxRefused = this.sources.outboxRefused?.() ?? 0;
    } catch {
      // database busy: -1, as above
    }
    return {
      uptimeSeconds: Math.round((this.now() - this.startedAt) / 1000),
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      queues: { inFlight: this.sources.inFlight(), outboxUnpublished, outboxRefused },
      counts: this.sources.counts(),
      inputsPerMinute: this.inputsPerMinute(),
      latencyMs: this.latencyPercentiles(),
      databaseBytes: this.databaseBytes(),
      connected: this.sources.connected(),
    };
  }
}
