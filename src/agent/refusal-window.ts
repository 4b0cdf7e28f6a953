/**
 * Coalescing windows for the outbox publisher's refusals: when a broker's ACL denies a whole site at 50 msg/s, one
 * line per refused message would be 50 error lines (and 50 notices) a second. The first event of a key opens a window
 * and is told at once; the others before the window ends are only counted, and the count is summarised once when it
 * ends. A key's next event after that opens a new window (told at once again). Time comes from the caller (`now`), so
 * the windows need no timer of their own: the publisher closes ended ones from a timer and before each new event.
 */
export interface ClosedWindow<T> {
  readonly key: string;
  /** The event told at once (it opened the window). */
  readonly first: T;
  /** The last counted event (undefined when none was). */
  readonly last?: T;
  /** Events counted after the first, not told one by one. */
  readonly more: number;
  /** When the window opened, and how long it was open when closed (ms). */
  readonly openedAt: number;
  readonly spanMs: number;
}

interface OpenWindow<T> {
  readonly first: T;
  last?: T;
  more: number;
  readonly openedAt: number;
}

export class CoalescingWindows<T> {
  private readonly open = new Map<string, OpenWindow<T>>();

  constructor(readonly windowMs: number) {}

  /** True when `event` opens a window for its key (tell it now); false when it was counted in an open one. */
  admit(key: string, event: T, now: number): boolean {
    const w = this.open.get(key);
    // A window that ended but was not closed yet (the caller closes first) still counts: a key reopens once it is gone.
    if (w) {
      w.more++;
      w.last = event;
      return false;
    }
    this.open.set(key, { first: event, more: 0, openedAt: now });
    return true;
  }

  /** Removes the windows that ended by `now` (every one with `all`: at stop) and returns them, oldest first. */
  close(now: number, all = false): Array<ClosedWindow<T>> {
    const closed: Array<ClosedWindow<T>> = [];
    for (const [key, w] of this.open) {
      const end = w.openedAt + this.windowMs;
      if (!all && now < end) continue;
      this.open.delete(key);
      closed.push({ key, first: w.first, last: w.last, more: w.more, openedAt: w.openedAt, spanMs: Math.min(Math.max(now - w.openedAt, 0), this.windowMs) });
    }
    return closed;
  }

  /** When the earliest open window ends (ms, on the caller's clock), or undefined when none is open. */
  nextEnd(): number | undefined {
    let min: number | undefined;
    for (const w of this.open.values()) if (min === undefined || w.openedAt + this.windowMs < min) min = w.openedAt + this.windowMs;
    return min;
  }

  get size(): number {
    return this.open.size;
  }
}
