// A small five-field cron matcher (minute hour day-of-month month day-of-week, in UTC) for the
// schedule trigger: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and
// day names (jan…dec, sun…sat), day of week 0-7 (0 and 7 are Sunday). As in Vixie cron, when both
// day fields are restricted a day matches either of them.
import { PlinthError } from '../core/index.js';

export interface CronSchedule {
  text: string;
  /** True when the minute starting at `ms` (ms since epoch, UTC) is a tick. */
  matches(ms: number): boolean;
}

const MINUTE_MS = 60_000;
/** How far back or forward the tick searches look, in minutes (a bit over a year). */
const SEARCH_MINUTES = 367 * 1440;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldRule {
  min: number;
  max: number;
  names?: string[];
  /** First value the names map to (months: 1). */
  nameBase?: number;
}

const FIELDS: FieldRule[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 7, names: DAYS, nameBase: 0 },
];
const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

function parseField(text: string, rule: FieldRule, what: string, where: string): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  const bad = () => new PlinthError('INVALID_PIPELINE', `${where}: ${JSON.stringify(text)} is not a valid ${what} field (${rule.min}-${rule.max})`);
  const number = (s: string): number => {
    const lower = s.toLowerCase();
    const named = rule.names?.indexOf(lower) ?? -1;
    if (named >= 0) return named + rule.nameBase!;
    if (!/^[0-9]{1,2}$/.test(s)) throw bad();
    const n = Number(s);
    if (n < rule.min || n > rule.max) throw bad();
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (range === undefined || extra !== undefined) throw bad();
    let step = 1;
    if (stepText !== undefined) {
      if (!/^[0-9]{1,2}$/.test(stepText) || Number(stepText) < 1) throw bad();
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (range === '*') [low, high] = [rule.min, rule.max];
    else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (a === undefined || b === undefined || more !== undefined) throw bad();
      [low, high] = [number(a), number(b)];
      if (low > high) throw bad();
    } else {
      low = number(range);
      high = stepText !== undefined ? rule.max : low;
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return { values, star: text === '*' || text.startsWith('*/') };
}

/**
 * Parses a five-field cron expression (UTC).
 * @throws PlinthError INVALID_PIPELINE naming the bad field.
 */
export function parseCron(text: string, where = 'schedule'): CronSchedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new PlinthError('INVALID_PIPELINE', `${where}: ${JSON.stringify(text)} must have five fields (minute hour day-of-month month day-of-week)`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, FIELD_NAMES[i]!, where)) as [ReturnType<typeof parseField>, ReturnType<typeof parseField>, ReturnType<typeof parseField>, ReturnType<typeof parseField>, ReturnType<typeof parseField>];
  if (dow.values.has(7)) dow.values.add(0);
  return {
    text,
    matches(ms: number): boolean {
      const d = new Date(ms);
      if (!minute.values.has(d.getUTCMinutes()) || !hour.values.has(d.getUTCHours()) || !month.values.has(d.getUTCMonth() + 1)) return false;
      const domOk = dom.values.has(d.getUTCDate());
      const dowOk = dow.values.has(d.getUTCDay());
      if (dom.star || dow.star) return (dom.star || domOk) && (dow.star || dowOk);
      return domOk || dowOk;
    },
  };
}

/**
 * The latest tick t (a minute start, ms) with `after` < t ≤ `until`, or null when there is none
 * (looking back at most a year).
 */
export function lastTickIn(schedule: CronSchedule, after: number, until: number): number | null {
  let t = Math.floor(until / MINUTE_MS) * MINUTE_MS;
  for (let i = 0; i < SEARCH_MINUTES && t > after; i++, t -= MINUTE_MS) if (schedule.matches(t)) return t;
  return null;
}

/** The first tick strictly after `after` (ms), or null when none comes within a year. */
export function nextTick(schedule: CronSchedule, after: number): number | null {
  let t = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (let i = 0; i < SEARCH_MINUTES; i++, t += MINUTE_MS) if (schedule.matches(t)) return t;
  return null;
}
