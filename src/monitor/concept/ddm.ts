// DDM (drift detection method, Gama et al. 2004) as River implements it (river.drift.binary.DDM):
// the running error rate p and its binomial standard deviation s = √(p(1−p)/n); after the warm
// start the minimum of p + s is remembered, and p + s above p_min + 2·s_min is a warning, above
// p_min + 3·s_min a drift. The update after a drift starts over.

/** DDM's settings; the defaults are River's. */
export interface DdmOptions {
  /** Values seen before warnings or drifts can be signalled (strictly more than this). @default 30 */
  warmStart?: number;
  /** Warning when p + s > p_min + warningThreshold·s_min (≈95 % confidence). @default 2 */
  warningThreshold?: number;
  /** Drift when p + s > p_min + driftThreshold·s_min (≈99 % confidence). @default 3 */
  driftThreshold?: number;
}

/** River's defaults. */
export const DDM_DEFAULTS: Readonly<Required<DdmOptions>> = Object.freeze({ warmStart: 30, warningThreshold: 2, driftThreshold: 3 });

/** DDM over a stream of 0/1 values (1: the prediction was wrong). */
export class Ddm {
  readonly options: Readonly<Required<DdmOptions>>;
  driftDetected = false;
  warningDetected = false;
  private n = 0;
  private p = 0;
  private pMin = Infinity;
  private sMin = Infinity;
  private psMin = Infinity;

  /** @throws RangeError on settings outside their domain (the monitor kind validates them first) */
  constructor(options: DdmOptions = {}) {
    const o = { ...DDM_DEFAULTS, ...options };
    if (!Number.isInteger(o.warmStart) || o.warmStart < 0) throw new RangeError('DDM warmStart must be a non-negative integer');
    if (!(o.warningThreshold > 0) || !(o.driftThreshold > 0)) throw new RangeError('DDM thresholds must be positive');
    this.options = Object.freeze(o);
  }

  private reset(): void {
    this.driftDetected = false;
    this.warningDetected = false;
    this.n = 0;
    this.p = 0;
    this.pMin = Infinity;
    this.sMin = Infinity;
    this.psMin = Infinity;
  }

  /** Adds one value (1 error, 0 correct); returns whether a drift was detected at it. */
  update(x: number): boolean {
    if (this.driftDetected) this.reset();
    // River's stats.Mean: mean += w·(x − mean)/n with w = 1.
    this.n += 1;
    this.p += (x - this.p) / this.n;
    const p = this.p;
    const s = Math.sqrt(p * (1 - p) / this.n);
    if (this.n > this.options.warmStart) {
      if (p + s <= this.psMin) {
        this.pMin = p;
        this.sMin = s;
        this.psMin = this.pMin + this.sMin;
      }
      this.warningDetected = p + s > this.pMin + this.options.warningThreshold * this.sMin;
      if (p + s > this.pMin + this.options.driftThreshold * this.sMin) {
        this.driftDetected = true;
        this.warningDetected = false;
      }
    }
    return this.driftDetected;
  }

  /** The running error rate since the last reset. */
  get errorRate(): number { return this.p; }
  /** Values seen since the last reset. */
  get count(): number { return this.n; }
}
