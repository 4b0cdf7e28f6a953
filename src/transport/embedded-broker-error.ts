/**
 * The embedded broker's start-up error, in a module of its own: `hubnlu run` tells its cases apart without importing
 * the broker (aedes and LevelDB load only when the embedded broker starts; test/cli/run-modules.test.ts).
 *
 * The embedded broker could not start; the message names the setting and the fix. `retryable`: what it needs is held
 * by another process (the port, the store's lock), which may let go, so the agent exits 1 and systemd starts it again;
 * otherwise (a store directory it may not create or write, a damaged store, an address this machine does not have, a
 * privileged port) a restart cannot help, and the agent exits 78 (EXIT.needsAttention: the unit's
 * RestartPreventExitStatus=78 stops there).
 */
export class EmbeddedBrokerError extends Error {
  constructor(
    readonly setting: 'mqtt.embedded.persistence' | 'mqtt.embedded.host' | 'mqtt.embedded.port',
    problem: string,
    readonly retryable: boolean,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'EmbeddedBrokerError';
  }
}
