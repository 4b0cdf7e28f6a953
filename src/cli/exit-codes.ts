/** Exit codes of the `hubnlu` command (documented in the README). */
export const EXIT = {
  ok: 0,
  /** A runtime failure: broker unreachable, model missing, database unreadable. */
  failure: 1,
  /** Invalid configuration or command-line usage. */
  usage: 2,
  /** The query matched nothing, or the input held nothing to work on (`logs` with filters that match no row, `train`/`eval --data` of an empty file, `models rollback` with nothing to roll back). */
  empty: 3,
  /**
   * A problem a restart cannot fix (EX_CONFIG, sysexits.h): credentials the broker refused,
   * an untrusted certificate, an unsupported protocol version, a corrupt, read-only or
   * deleted database, another agent on the same database, an embedded broker that cannot
   * create or write its store, listen on mqtt.embedded.host or bind a privileged port. The unit's
   * `RestartPreventExitStatus=78` keeps systemd from turning it into a restart loop.
   */
  needsAttention: 78,
} as const;

/** An error that carries its exit code to main(). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
  }
}
