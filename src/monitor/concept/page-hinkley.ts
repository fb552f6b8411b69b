// Page-Hinkley (Page 1954) as River implements it (river.drift.PageHinkley, two-sided): the
// deviation of each value from the running mean, less (or plus) δ, is added to a sum that forgets
// with factor α; a drift is the distance of the upward sum above its minimum, or of the downward sum
// below its maximum, exceeding the threshold λ, once min_instances values have been seen. The
// update after a drift starts over.

export type PageHinkleyMode = 'up' | 'down' | 'both';

/** Page-Hinkley's settings; the defaults are River's. */
export interface PageHinkleyOptions {
  /** Values seen before a drift can be signalled. @default 30 */
  minInstances?: number;
  /** Magnitude of change tolerated, subtracted from (up) or added to (down) each deviation. @default 0.005 */
  delta?: number;
  /** λ: the cumulative deviation at which a drift is signalled. @default 50 */
  threshold?: number;
  /** Forgetting factor of the cumulative sums. @default 0.9999 */
  alpha?: number;
  /** Increases of the mean (`up`), decreases (`down`) or both. @default 'both' */
  mode?: PageHinkleyMode;
}

/** River's defaults. */
export const PAGE_HINKLEY_DEFAULTS: Readonly<Required<PageHinkleyOptions>> = Object.freeze({
  minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both',
});

/** Page-Hinkley over a stream of real values (e.g. absolute errors). */
export class PageHinkley {
  readonly options: Readonly<Required<PageHinkleyOptions>>;
  driftDetected = false;
  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Infinity;
  // River starts the maximum of the downward sum at −1, not −∞; kept for identical detections.
  private maxDecrease = -1;

  /** @throws RangeError on settings outside their domain (the monitor kind validates them first) */
  constructor(options: PageHinkleyOptions = {}) {
    const o = { ...PAGE_HINKLEY_DEFAULTS, ...options };
    if (!Number.isInteger(o.minInstances) || o.minInstances < 0) throw new RangeError('Page-Hinkley minInstances must be a non-negative integer');
    if (!(o.delta >= 0) || !(o.threshold > 0) || !(o.alpha > 0 && o.alpha <= 1)) throw new RangeError('Page-Hinkley delta ≥ 0, threshold > 0, alpha in (0, 1]');
    if (!['up', 'down', 'both'].includes(o.mode)) throw new RangeError('Page-Hinkley mode is up, down or both');
    this.options = Object.freeze(o);
  }

  private reset(): void {
    this.driftDetected = false;
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Infinity;
    this.maxDecrease = -1;
  }

  /** Adds one value; returns whether a drift was detected at it. */
  update(x: number): boolean {
    if (this.driftDetected) this.reset();
    const o = this.options;
    this.n += 1;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    this.sumIncrease = o.alpha * this.sumIncrease + dev - o.delta;
    this.sumDecrease = o.alpha * this.sumDecrease + dev + o.delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;
    if (this.n >= o.minInstances) {
      const up = this.sumIncrease - this.minIncrease > o.threshold;
      const down = this.maxDecrease - this.sumDecrease > o.threshold;
      this.driftDetected = o.mode === 'up' ? up : o.mode === 'down' ? down : up || down;
    }
    return this.driftDetected;
  }

  /** The running mean since the last reset. */
  get estimation(): number { return this.mean; }
}
