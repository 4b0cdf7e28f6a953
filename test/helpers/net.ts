import { createServer, type AddressInfo } from 'node:net';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Multiplies every waitFor deadline: 1 normally. scripts/arm64-check.sh runs test files under qemu-user, where an
 * answer takes 10-50 times as long as natively and a 5-second bound says nothing about correctness; it sets
 * HUBNLU_TEST_TIME_SCALE. A wait that must time out (nothing arrives) only gets longer, never looser.
 */
const TIME_SCALE = Math.max(1, Number(process.env.HUBNLU_TEST_TIME_SCALE) || 1);

/** Polls `check` until it returns true or `timeoutMs` (times HUBNLU_TEST_TIME_SCALE) passes; returns the last value of check. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs * TIME_SCALE;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
