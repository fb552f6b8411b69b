// The cron matcher against ticks worked out by hand on the UTC calendar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastTickIn, nextTick, parseCron } from './cron.js';

const at = (iso: string) => Date.parse(iso);

test('fields: numbers, ranges, steps, lists and names', () => {
  const s = parseCron('*/15 9-17 * * mon-fri');
  // 2026-11-23 is a Monday.
  assert.equal(s.matches(at('2026-11-23T09:45:00Z')), true);
  assert.equal(s.matches(at('2026-11-23T09:50:00Z')), false);
  assert.equal(s.matches(at('2026-11-23T18:00:00Z')), false);
  assert.equal(s.matches(at('2026-11-22T09:45:00Z')), false); // Sunday
  const l = parseCron('0 0 1,15 jan,jul *');
  assert.equal(l.matches(at('2026-07-15T00:00:00Z')), true);
  assert.equal(l.matches(at('2026-08-15T00:00:00Z')), false);
});

test('day of month and day of week both restricted: either matches; 7 is Sunday', () => {
  const s = parseCron('0 12 13 * 5');
  assert.equal(s.matches(at('2026-11-13T12:00:00Z')), true); // the 13th (a Friday too)
  assert.equal(s.matches(at('2026-11-20T12:00:00Z')), true); // a Friday
  assert.equal(s.matches(at('2026-11-14T12:00:00Z')), false);
  assert.equal(parseCron('0 0 * * 7').matches(at('2026-11-22T00:00:00Z')), true);
});

test('next and last ticks', () => {
  const s = parseCron('30 3 * * *');
  assert.equal(nextTick(s, at('2026-11-22T03:30:00Z')), at('2026-11-23T03:30:00Z'));
  assert.equal(nextTick(s, at('2026-11-22T03:29:59Z')), at('2026-11-22T03:30:00Z'));
  // Down for three days: only the newest missed tick is reported.
  assert.equal(lastTickIn(s, at('2026-11-19T04:00:00Z'), at('2026-11-22T10:00:00Z')), at('2026-11-22T03:30:00Z'));
  assert.equal(lastTickIn(s, at('2026-11-22T03:30:00Z'), at('2026-11-22T10:00:00Z')), null);
});

test('bad expressions are refused with INVALID_PIPELINE', () => {
  for (const text of ['* * * *', '60 * * * *', '* 24 * * *', '*/0 * * * *', '5-1 * * * *', 'a * * * *', '* * 0 * *', '* * * 13 *']) {
    assert.throws(() => parseCron(text), (e: any) => e.code === 'INVALID_PIPELINE', text);
  }
});
