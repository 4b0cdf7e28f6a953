/**
 * How the benches start `hubnlu run`: the node flags and environment the shipped unit (systemd/hubnlu.service)
 * and `npm start` give it, kept in one place so that bench/e2e, bench/memory and bench/latency-trace measure the
 * agent users run (README, Where the memory goes, and Benchmarks).
 */

/**
 * 4 MB semi-spaces (the young generation is given back at ready); an old-generation limit that makes V8 collect sooner
 * under a flood; one V8 helper thread (parallel scavenges on an oversubscribed 2-core machine waited for helpers that
 * were not running).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=160', '--v8-pool-size=1'];

/** glibc's trim threshold fixed at 128 KiB and one malloc arena. */
export const AGENT_ENV: Readonly<Record<string, string>> = { MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '1' };
