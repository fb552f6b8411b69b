// ADWIN (adaptive windowing, Bifet & Gavaldà 2007) as River implements it (river.drift.ADWIN over
// river/drift/adwin_c.pyx, the ADWIN2 exponential-histogram variant): the same buckets, the same
// cut order, the same variance bookkeeping and bound, the same check every `clock` values, and the
// same full reset on the update after a detection, so a stream gives the detections River gives.

/** ADWIN's settings; the defaults are River's. */
export interface AdwinOptions {
  /** Significance δ of the cut test (smaller: fewer false alarms, later detections). @default 0.002 */
  delta?: number;
  /** Cuts are checked once every `clock` values. @default 32 */
  clock?: number;
  /** Buckets of one size kept before the two oldest merge into one of twice the size. @default 5 */
  maxBuckets?: number;
  /** Both sub-windows of a cut must hold at least this many values. @default 5 */
  minWindowLength?: number;
  /** No cut is checked until the window holds more than this many values. @default 10 */
  gracePeriod?: number;
}

/** River's defaults. */
export const ADWIN_DEFAULTS: Readonly<Required<AdwinOptions>> = Object.freeze({
  delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10,
});

/**
 * One row of buckets, all of size 2^row: `totals[k]`/`variances[k]` for k < count, oldest first.
 * Fixed arrays of maxBuckets + 1 slots, as River's Bucket.
 */
class BucketRow {
  count = 0;
  readonly totals: Float64Array;
  readonly variances: Float64Array;

  constructor(maxBuckets: number) {
    this.totals = new Float64Array(maxBuckets + 1);
    this.variances = new Float64Array(maxBuckets + 1);
  }

  insert(total: number, variance: number): void {
    this.totals[this.count] = total;
    this.variances[this.count] = variance;
    this.count++;
  }

  /** Drops the `n` oldest buckets, shifting the rest left. */
  compress(n: number): void {
    const len = this.totals.length;
    for (let i = n; i < len; i++) {
      this.totals[i - n] = this.totals[i]!;
      this.variances[i - n] = this.variances[i]!;
    }
    for (let i = len - n; i < len; i++) { this.totals[i] = 0; this.variances[i] = 0; }
    this.count -= n;
  }
}

/** The adaptive window itself (River's AdaptiveWindowing). */
class AdaptiveWindow {
  /** rows[0] holds the newest, size-1 buckets; the last row the oldest, largest ones. */
  private rows: BucketRow[];
  total = 0;
  /** Sum of squared deviations from the window's mean (not divided by the width). */
  variance = 0;
  width = 0;
  detections = 0;
  private tick = 0;

  constructor(private readonly o: Required<AdwinOptions>) {
    this.rows = [new BucketRow(o.maxBuckets)];
  }

  update(value: number): boolean {
    this.insert(value);
    return this.detectChange();
  }

  private insert(value: number): void {
    this.rows[0]!.insert(value, 0);
    this.width += 1;
    let incremental = 0;
    if (this.width > 1) {
      const d = value - this.total / (this.width - 1);
      incremental = (this.width - 1) * d * d / this.width;
    }
    this.variance += incremental;
    this.total += value;
    this.compressBuckets();
  }

  private compressBuckets(): void {
    for (let idx = 0; idx < this.rows.length; idx++) {
      const row = this.rows[idx]!;
      if (row.count !== this.o.maxBuckets + 1) break;
      if (idx + 1 === this.rows.length) this.rows.push(new BucketRow(this.o.maxBuckets));
      const next = this.rows[idx + 1]!;
      const n = 2 ** idx;
      const mu1 = row.totals[0]! / n;
      const mu2 = row.totals[1]! / n;
      const total12 = row.totals[0]! + row.totals[1]!;
      const temp = n * n * (mu1 - mu2) * (mu1 - mu2) / (n + n);
      next.insert(total12, row.variances[0]! + row.variances[1]! + temp);
      row.compress(2);
      if (next.count <= this.o.maxBuckets) break;
    }
  }

  /** Removes the oldest bucket; returns its size. */
  private deleteElement(): number {
    const last = this.rows.length - 1;
    const row = this.rows[last]!;
    const n = 2 ** last;
    const u = row.totals[0]!;
    const mu = u / n;
    const v = row.variances[0]!;
    this.width -= n;
    this.total -= u;
    const muWindow = this.total / this.width;
    this.variance -= v + n * this.width * (mu - muWindow) * (mu - muWindow) / (n + this.width);
    row.compress(1);
    if (row.count === 0) this.rows.pop();
    return n;
  }

  private detectChange(): boolean {
    let changeDetected = false;
    this.tick += 1;
    if (this.tick % this.o.clock === 0 && this.width > this.o.gracePeriod) {
      let reduceWidth = true;
      while (reduceWidth) {
        reduceWidth = false;
        let exit = false;
        let n0 = 0;
        let n1 = this.width;
        let u0 = 0;
        let u1 = this.total;
        // From the oldest row to the newest; W0 (old) grows one bucket at a time.
        for (let idx = this.rows.length - 1; idx >= 0; idx--) {
          if (exit) break;
          const row = this.rows[idx]!;
          const size = 2 ** idx;
          // River visits all but the newest bucket of each row (range(current_idx - 1)); kept as is
          // so that the detections are River's.
          for (let k = 0; k < row.count - 1; k++) {
            n0 += size;
            n1 -= size;
            u0 += row.totals[k]!;
            u1 -= row.totals[k]!;
            const deltaMean = u0 / n0 - u1 / n1;
            if (n1 >= this.o.minWindowLength && n0 >= this.o.minWindowLength && this.cutHolds(n0, n1, deltaMean)) {
              reduceWidth = true;
              changeDetected = true;
              if (this.width > 0) {
                n0 -= this.deleteElement();
                exit = true;
                break;
              }
            }
          }
        }
      }
    }
    if (changeDetected) this.detections += 1;
    return changeDetected;
  }

  /** |μ0 − μ1| > ε_cut with River's Hoeffding/Bernstein bound. */
  private cutHolds(n0: number, n1: number, deltaMean: number): boolean {
    const deltaPrime = Math.log(2 * Math.log(this.width) / this.o.delta);
    const mRecip = 1 / (n0 - this.o.minWindowLength + 1) + 1 / (n1 - this.o.minWindowLength + 1);
    const epsilon = Math.sqrt(2 * mRecip * (this.variance / this.width) * deltaPrime) + 2 / 3 * deltaPrime * mRecip;
    return Math.abs(deltaMean) > epsilon;
  }
}

/**
 * ADWIN change detector over a stream of real values (0/1 errors, absolute errors, …). After a
 * detection `driftDetected` is true until the next update, which starts from an empty window (as
 * River's ADWIN does).
 */
export class Adwin {
  readonly options: Readonly<Required<AdwinOptions>>;
  driftDetected = false;
  private window: AdaptiveWindow;

  /** @throws RangeError on settings outside their domain (the monitor kind validates them first) */
  constructor(options: AdwinOptions = {}) {
    const o = { ...ADWIN_DEFAULTS, ...options };
    if (!(o.delta > 0 && o.delta < 1)) throw new RangeError('ADWIN delta must lie in (0, 1)');
    for (const k of ['clock', 'maxBuckets', 'minWindowLength'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`ADWIN ${k} must be a positive integer`);
    }
    if (!Number.isInteger(o.gracePeriod) || o.gracePeriod < 0) throw new RangeError('ADWIN gracePeriod must be a non-negative integer');
    this.options = Object.freeze(o);
    this.window = new AdaptiveWindow(o);
  }

  /** Adds one value; returns whether a change was detected at it. */
  update(x: number): boolean {
    if (this.driftDetected) {
      this.window = new AdaptiveWindow(this.options);
      this.driftDetected = false;
    }
    this.driftDetected = this.window.update(x);
    return this.driftDetected;
  }

  /** Values in the current window. */
  get width(): number { return this.window.width; }
  /** Mean of the current window (0 when empty). */
  get estimation(): number { return this.window.width === 0 ? 0 : this.window.total / this.window.width; }
}
