/** HealthMonitor: inputs per minute over a sliding minute, latency percentiles over the recent window. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitor } from '../../src/agent/health.js';

const counts = { received: 3, accepted: 2, rejected: 1, duplicates: 0, processed: 2, failed: 0, published: 2 };

test('inputs per minute count the last 60 s only; percentiles are nearest-rank over recorded latencies', () => {
  let now = 1_000_000;
  const h = new HealthMonitor({ counts: () => counts, inFlight: () => 4, outboxUnpublished: () => 7, connected: () => true, databasePath: ':memory:' }, () => now);
  assert.equal(h.snapshot().latencyMs, null, 'no result yet');
  for (let i = 0; i < 10; i++) h.noteAccepted();
  now += 30_000;
  for (let i = 0; i < 5; i++) h.noteAccepted();
  assert.equal(h.inputsPerMinute(), 15);
  now += 31_000;
  assert.equal(h.inputsPerMinute(), 5, 'the first ten are more than a minute old');
  for (let i = 1; i <= 100; i++) h.noteLatency(i);
  const s = h.snapshot();
  assert.deepEqual(s.latencyMs, { p50: 50, p90: 90, p99: 99 });
  assert.deepEqual(s.queues, { inFlight: 4, outboxUnpublished: 7, outboxRefused: 0 });
  assert.equal(s.uptimeSeconds, 61);
  assert.equal(s.databaseBytes, 0);
  assert.equal(s.connected, true);
  assert.deepEqual(s.counts, counts);
});

test('the latency window keeps the most recent 1024 results', () => {
  const h = new HealthMonitor({ counts: () => counts, inFlight: () => 0, outboxUnpublished: () => 0, connected: () => false, databasePath: ':memory:' });
  for (let i = 0; i < 1024; i++) h.noteLatency(1000);
  for (let i = 0; i < 1024; i++) h.noteLatency(1);
  assert.deepEqual(h.latencyPercentiles(), { p50: 1, p90: 1, p99: 1 });
});

test('a busy database reports -1 unpublished rather than failing the snapshot', () => {
  const h = new HealthMonitor({
    counts: () => counts,
    inFlight: () => 0,
    outboxUnpublished: () => {
      throw new Error('SQLITE_BUSY');
    },
    connected: () => true,
    databasePath: ':memory:',
  });
  assert.equal(h.snapshot().queues.outboxUnpublished, -1);
});

test('acceptance times are dropped after a minute even when nobody reads the rate (no leak with the bridge off)', () => {
  // Hours of a steady 200 inputs/s with inputsPerMinute() never called: before the fix every acceptance time stayed.
  let now = 1_000_000;
  const h = new HealthMonitor({ counts: () => counts, inFlight: () => 0, outboxUnpublished: () => 0, connected: () => true, databasePath: ':memory:' }, () => now);
  for (let i = 0; i < 200 * 3600; i++) {
    h.noteAccepted();
    now += 5;
  }
  // One minute at 200/s is 12,000 times; the array may also hold up to a compaction's worth already passed.
  // The private array itself: nothing public shows how much it holds.
  const held = (h as unknown as { accepted: number[] }).accepted.length;
  assert.ok(held <= 2 * 12_000 + 4097, `holds ${held} acceptance times after an hour`);
  assert.equal(h.inputsPerMinute(), 12_000);
});
