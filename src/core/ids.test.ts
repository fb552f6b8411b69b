import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newTimeOrderedId } from './ids.js';

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7([0-9a-f]{3})-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('time-ordered ids are UUID version 7 with the given millisecond in their first 48 bits', () => {
  // 2026-11-22T21:00:00.000Z is 1795381200000 ms, 0x01a2050f0480 in 48 bits.
  const id = newTimeOrderedId(1_795_381_200_000);
  const match = UUID_V7.exec(id);
  assert.ok(match, id);
  assert.equal(match[1]! + match[2]!, '01a2050f0480');
});

test('ids made one after the other sort in the order they were made, within and across milliseconds', () => {
  const ids: string[] = [];
  for (let ms = 2_000_000_000_000; ms < 2_000_000_000_003; ms++) for (let i = 0; i < 3000; i++) ids.push(newTimeOrderedId(ms));
  for (const id of ids) assert.match(id, UUID_V7);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `${ids[i - 1]} then ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
});

test('a clock that goes back does not break the order', () => {
  const later = newTimeOrderedId(2_100_000_000_000);
  const earlier = newTimeOrderedId(2_099_999_999_000);
  assert.ok(earlier > later);
});
