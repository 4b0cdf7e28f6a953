/**
 * Training progress: the trainer reports through this interface, so the
 * library stays silent in tests and the CLI shows a progress bar.
 */
import cliProgress from 'cli-progress';

export interface EpochInfo {
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  /** Accuracy on the first dev set after this epoch, when there is one. */
  readonly devAccuracy?: number;
}

export interface ProgressReporter {
  /** A training phase with `total` epochs begins. */
  start(phase: string, total: number): void;
  epoch(info: EpochInfo): void;
  /** The current phase is over. */
  stop(): void;
  /** A line of information between phases. */
  log(message: string): void;
}

export const silentProgress: ProgressReporter = {
  start() {},
  epoch() {},
  stop() {},
  log() {},
};

/** A cli-progress bar on stderr (stdout stays clean for `--json`). Plain lines when stderr is not a TTY. */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  let bar: cliProgress.SingleBar | null = null;
  let phase = '';
  const tty = Boolean(stream.isTTY);
  return {
    start(name, total) {
      phase = name;
      if (tty) {
        bar = new cliProgress.SingleBar(
          {
            format: `${name.padEnd(18)} [{bar}] epoch {value}/{total} | loss {loss} | dev acc {dev} | {duration}s`,
            stream,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { loss: '-', dev: '-' });
      }
    },
    epoch(info) {
      const dev = info.devAccuracy === undefined ? '-' : `${(info.devAccuracy * 100).toFixed(2)}%`;
      if (bar) bar.update(info.epoch, { loss: info.loss.toFixed(4), dev });
      else stream.write(`${phase}: epoch ${info.epoch}/${info.epochs} loss ${info.loss.toFixed(4)} dev acc ${dev}\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
    log(message) {
      stream.write(`${message}\n`);
    },
  };
}
