/**
 * src/util/cron.ts against node-cron itself: for the same expressions and start times (Date mocked, so node-cron's
 * `new Date()` is the start time), the next runs must be the same. node-cron stays the oracle and the config check;
 * hubnlu only stopped using it to run schedules, because its Intl.DateTimeFormat keeps ~6 MB of ICU in the agent's
 * RSS (issue 10). Run in a time zone with daylight saving time, across both changes.
 */
process.env.TZ = 'Europe/Berlin';
import { after, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTask, validate } from 'node-cron';
import { CronSchedule, isValidCron, scheduleCron } from '../../src/util/cron.js';

const EXPRESSIONS = [
  '30 3 * * *', // storage.maintenanceCron's default
  '*/10 * * * *', // extensions.bridge.healthCron's default
  '0 3 * * *',
  '*/15 * * * * *',
  '5 4 * * sun',
  '0 0 1 1 *',
  '0 22 * * 1-5',
  '0 0,12 1 */2 *',
  '10-40/10 2 * * *',
  '0 9 * jan-mar mon-fri',
  '0 9 * January,July Monday',
  '0 12 L * *',
  '0 12 L-2 * *',
  '0 12 15W * *',
  '0 12 1W * *',
  '0 12 31W * *',
  '0 12 LW * *',
  '0 18 * * 5L',
  '0 8 * * 1#2',
  '0 8 * * 7',
  '0 0 29 2 *',
  '0 0 13 * 5',
  '0 2 * * *', // inside the spring-forward gap in Berlin (02:00-03:00 on the last Sunday of March)
  '30 2 * 3,10 0',
  '@daily',
  '@hourly',
  '@weekly',
  '59 23 31 12 *',
  '0 */3 * * ?',
  '5-2 * * * *', // backwards: wraps around (5-59, 0-2)
  '50-10/5 22-1 * * *',
  '0 9 * * fri-mon',
  '0 9 * 11-2 *',
];
const STARTS = ['2026-01-01T00:00:00Z', '2026-03-28T23:59:30Z', '2026-10-24T22:10:00Z', '2026-12-01T12:34:56.789Z', '2028-02-27T10:00:00Z', '2027-05-31T21:59:59Z'];

after(() => mock.timers.reset());

test('every expression node-cron accepts is accepted, and its next runs are node-cron’s', () => {
  mock.timers.enable({ apis: ['Date'] });
  let compared = 0;
  for (const expression of EXPRESSIONS) {
    assert.ok(validate(expression), `node-cron rejects ${expression}`);
    const mine = new CronSchedule(expression);
    for (const start of STARTS) {
      mock.timers.setTime(Date.parse(start));
      const task = createTask(expression, () => undefined);
      const theirs = task.getNextRuns(4).map((d) => d.toISOString());
      void task.destroy();
      const ours: string[] = [];
      let from = new Date(Date.parse(start));
      for (let i = 0; i < 4; i++) ours.push((from = mine.next(from)).toISOString());
      assert.deepEqual(ours, theirs, `${expression} from ${start}`);
      compared++;
    }
  }
  assert.equal(compared, EXPRESSIONS.length * STARTS.length);
  mock.timers.reset();
});

test('what node-cron refuses, the config check (isValidCron) refuses', () => {
  for (const expression of ['', '* * *', '* * * * * * *', '60 * * * *', '* 24 * * *', '* * 32 * *', '* * * 0 *', '* * * * 8', '*/0 * * * *', '70-2 * * * *', 'x * * * *', '* * * foo *', '@often', '* * 1#2 * *', '* * * * 1#6', '1.5 * * * *']) {
    assert.equal(validate(expression), false, `node-cron accepts ${JSON.stringify(expression)}`);
    assert.equal(isValidCron(expression), false, JSON.stringify(expression));
  }
  for (const expression of EXPRESSIONS) assert.equal(isValidCron(expression), true, expression);
});

test('malformed expressions are refused with the field named', () => {
  for (const [expression, field] of [
    ['61 * * * *', 'minute'],
    ['* 24 * * *', 'hour'],
    ['* * 0 * *', 'day of month'],
    ['* * * 13 *', 'month'],
    ['* * * * 8', 'day of week'],
    ['* * * *', '5 or 6 fields'],
    ['*/0 * * * *', 'minute'],
  ] as const) {
    assert.throws(() => new CronSchedule(expression), new RegExp(field), expression);
  }
});

test('scheduleCron runs at each match until stopped, and a run that throws does not stop it', () => {
  mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.parse('2026-06-01T10:00:00.500Z') });
  const warnings = mock.method(process, 'emitWarning', () => undefined);
  const runs: string[] = [];
  const task = scheduleCron('*/2 * * * * *', () => {
    runs.push(new Date().toISOString());
    if (runs.length === 1) throw new Error('first run fails');
  });
  assert.equal(task.nextRun()?.toISOString(), '2026-06-01T10:00:02.000Z');
  mock.timers.tick(1500);
  assert.equal(warnings.mock.callCount(), 1);
  assert.match(String(warnings.mock.calls[0].arguments[0]), /first run fails/);
  mock.timers.tick(2000); // one step a match: Node 20's mock sets the clock to the end of a tick before running its timers
  mock.timers.tick(2000);
  assert.deepEqual(runs, ['2026-06-01T10:00:02.000Z', '2026-06-01T10:00:04.000Z', '2026-06-01T10:00:06.000Z']);
  task.stop();
  assert.equal(task.nextRun(), null);
  mock.timers.tick(10_000);
  assert.equal(runs.length, 3);
  warnings.mock.restore();
  mock.timers.reset();
});

test('an expression that parses but never matches is refused by the config check, not left to fail when the agent arms it', () => {
  for (const expression of ['0 0 30 2 *', '0 0 31 4 *', '0 0 31 6 *']) {
    assert.equal(isValidCron(expression), false, expression);
    assert.throws(() => scheduleCron(expression, () => undefined), /never matches/);
  }
  assert.equal(isValidCron('0 0 29 2 *'), true, 'February 29th comes every four years');
});
