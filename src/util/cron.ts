/**
 * Cron schedules computed with `Date`'s local-time getters (issue 10, idle RSS).
 *
 * node-cron computes every next run with `Intl.DateTimeFormat(...).formatToParts`, which pulls ICU's locale and time
 * zone data into memory: arming the maintenance schedule put about 5 MB of the node binary's ICU pages and 1 MB of
 * its code into the agent's RSS for good. The same next run comes from `Date`'s local getters (the process's time
 * zone, as node-cron without a `timezone` option). The config check parses with this module too, so what it accepts
 * is what runs. It reads node-cron's syntax, and test/util/cron.test.ts compares its next runs with node-cron's:
 *
 *   [second] minute hour day-of-month month day-of-week
 *   *  ?  5  1-5  * /15  10-40/10  1,15  jan-mar  mon-fri  7 (Sunday)
 *   day of month: L (last day), L-2 (two before it), 15W (weekday nearest the 15th), LW
 *   day of week:  5L (last Friday of the month), 1#2 (second Monday)
 *
 * As in node-cron, every field must match (day of month and day of week together, not either).
 */

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** One field's allowed values, plus the day fields' special tokens. */
interface Field {
  readonly values: ReadonlySet<number>;
  readonly tokens: readonly string[];
}

function names(field: string, list: readonly string[], base: number): string {
  // Full names or their first three letters, case-insensitive.
  return field.replace(/[a-z]+/gi, (word) => {
    const w = word.toLowerCase();
    const i = list.findIndex((n) => w === n || w === n.slice(0, 3));
    return i < 0 ? word : String(i + base);
  });
}

/** `wrapMax`: a range written backwards wraps around at it (node-cron: minutes `50-10` are 50-59 and 0-10; Friday-Monday `5-1`). */
function parseField(field: string, min: number, max: number, what: string, special?: RegExp, wrapMax = max): Field {
  const values = new Set<number>();
  const tokens: string[] = [];
  for (const part of field.split(',')) {
    if (special?.test(part)) {
      tokens.push(part.toUpperCase());
      continue;
    }
    const m = /^(\*|\?|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron ${what}: cannot read ${JSON.stringify(part)}`);
    const star = m[1] === '*' || m[1] === '?';
    const first = star ? min : Number(m[1]);
    const last = m[2] !== undefined ? Number(m[2]) : star || m[3] !== undefined ? max : first;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (first < min || first > max || last < min || last > max || step < 1) throw new Error(`cron ${what}: ${JSON.stringify(part)} is out of ${min}-${max}`);
    if (first <= last) {
      for (let v = first; v <= last; v += step) values.add(v);
    } else {
      const size = wrapMax - min + 1;
      const span = (((last - first) % size) + size) % size;
      for (let offset = 0; offset <= span; offset += step) values.add(first + offset > wrapMax ? first + offset - size : first + offset);
    }
  }
  return { values, tokens };
}

const lastDay = (y: number, m: number) => new Date(y, m + 1, 0).getDate(); // m: 0-11

/** The weekday (Mon-Fri) nearest to `day` within the month (Quartz's W). */
function nearestWeekday(y: number, m: number, day: number): number {
  const dow = new Date(y, m, day).getDay();
  if (dow === 6) return day === 1 ? day + 2 : day - 1;
  if (dow === 0) return day === lastDay(y, m) ? day - 2 : day + 1;
  return day;
}

/**
 * When clocks go back, a wall-clock time happens twice (02:30 CEST, then 02:30 CET an hour later): like node-cron,
 * a schedule runs at the later one only. Times in the hour clocks skip forward never happen (the day has no 02:30).
 */
function laterOccurrence(d: Date): Date {
  const shiftMin = new Date(d.getTime() + 3 * 3_600_000).getTimezoneOffset() - d.getTimezoneOffset();
  if (shiftMin <= 0) return d;
  const later = new Date(d.getTime() + shiftMin * 60_000);
  const same = later.getDate() === d.getDate() && later.getHours() === d.getHours() && later.getMinutes() === d.getMinutes() && later.getSeconds() === d.getSeconds();
  return same ? later : d;
}

export class CronSchedule {
  private readonly second: Field;
  private readonly minute: Field;
  private readonly hour: Field;
  private readonly dom: Field;
  private readonly month: Field;
  private readonly dow: Field;

  constructor(readonly expression: string) {
    const fields = (NICKNAMES[expression.trim().toLowerCase()] ?? expression).trim().split(/\s+/);
    if (fields.length === 5) fields.unshift('0');
    if (fields.length !== 6) throw new Error(`cron: ${JSON.stringify(expression)} needs 5 or 6 fields`);
    this.second = parseField(fields[0], 0, 59, 'second');
    this.minute = parseField(fields[1], 0, 59, 'minute');
    this.hour = parseField(fields[2], 0, 23, 'hour');
    this.dom = parseField(fields[3], 1, 31, 'day of month', /^(L(-\d+)?|LW|\d+W)$/i);
    this.month = parseField(names(fields[4], MONTHS, 1), 1, 12, 'month');
    const dow = parseField(names(fields[5], DAYS, 0), 0, 7, 'day of week', /^([0-7]L|[0-7]#[1-5])$/i, 6);
    const values = new Set([...dow.values].map((d) => (d === 7 ? 0 : d)));
    this.dow = { values, tokens: dow.tokens.map((t) => (t.startsWith('7') ? `0${t.slice(1)}` : t)) };
  }

  private dayMatches(d: Date): boolean {
    const y = d.getFullYear();
    const m = d.getMonth();
    const day = d.getDate();
    const dow = d.getDay();
    const last = lastDay(y, m);
    const domOk =
      this.dom.values.has(day) ||
      this.dom.tokens.some((t) => {
        if (t === 'L') return day === last;
        if (t === 'LW') return day === nearestWeekday(y, m, last);
        if (t.startsWith('L-')) return day === last - Number(t.slice(2));
        const target = Number(t.slice(0, -1));
        return target >= 1 && target <= last && day === nearestWeekday(y, m, target);
      });
    if (!domOk) return false;
    return (
      this.dow.values.has(dow) ||
      this.dow.tokens.some((t) => {
        const target = Number(t[0]);
        if (t.endsWith('L')) return dow === target && day + 7 > last;
        return dow === target && Math.ceil(day / 7) === Number(t.slice(2));
      })
    );
  }

  /** The first time after `after` (strictly, to the second) that matches, in the process's local time. */
  next(after: Date): Date {
    const d = new Date(after.getTime());
    d.setMilliseconds(0);
    d.setSeconds(d.getSeconds() + 1);
    const limit = after.getTime() + 100 * 366 * 86_400_000; // node-cron also gives up after about a century
    while (d.getTime() <= limit) {
      if (!this.month.values.has(d.getMonth() + 1)) {
        d.setMonth(d.getMonth() + 1, 1);
        d.setHours(0, 0, 0);
      } else if (!this.dayMatches(d)) {
        d.setDate(d.getDate() + 1);
        d.setHours(0, 0, 0);
      } else if (!this.hour.values.has(d.getHours())) {
        d.setHours(d.getHours() + 1, 0, 0);
      } else if (!this.minute.values.has(d.getMinutes())) {
        d.setMinutes(d.getMinutes() + 1, 0);
      } else if (!this.second.values.has(d.getSeconds())) {
        d.setSeconds(d.getSeconds() + 1);
      } else {
        return laterOccurrence(d);
      }
    }
    throw new Error(`cron: ${JSON.stringify(this.expression)} never matches`);
  }
}

/** Whether `expression` is a cron expression this module can run (the config check): it parses and it ever matches ("0 0 30 2 *" never does). */
export function isValidCron(expression: string): boolean {
  try {
    new CronSchedule(expression).next(new Date());
    return true;
  } catch {
    return false;
  }
}

export interface CronTask {
  /** The next planned run, or null once stopped. */
  nextRun(): Date | null;
  stop(): void;
}

/** The longest delay one timer takes (setTimeout's 32-bit limit); longer waits re-arm. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Runs `run` at every time `expression` matches (local time) until stopped. A run that throws does not stop the
 * schedule or the process: the error becomes a process warning (hubnlu's callers start async work and catch its
 * failures themselves).
 */
export function scheduleCron(expression: string, run: () => void): CronTask {
  const schedule = new CronSchedule(expression);
  let timer: NodeJS.Timeout | undefined;
  let due: Date | null = null;
  let stopped = false;
  const arm = (from: Date) => {
    if (stopped) return;
    due = schedule.next(from);
    const wait = () => {
      const left = due!.getTime() - Date.now();
      if (left > MAX_DELAY_MS) {
        timer = setTimeout(wait, MAX_DELAY_MS);
        return;
      }
      timer = setTimeout(
        () => {
          if (Date.now() < due!.getTime()) return wait(); // a timer may fire a little early
          const at = due!;
          try {
            run();
          } catch (err) {
            process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'HUBNLU_CRON_RUN' });
          }
          arm(new Date(Math.max(at.getTime(), Date.now())));
        },
        Math.max(0, left),
      );
    };
    wait();
  };
  arm(new Date());
  return {
    nextRun: () => (stopped ? null : due),
    stop: () => {
      stopped = true;
      due = null;
      if (timer) clearTimeout(timer);
    },
  };
}
