// Feature binning for the histogram trainer. Every feature maps to at most 256 bins stored in one
// byte per value: bin 0 holds missing values (NaN), so each split can learn where they go.
// Numeric features: bins 1..B are quantile ranges of a sample, each with a float32 upper bound; a
// value goes to the first bin whose bound is ≥ it, so "bin ≤ b" is exactly "x ≤ upper[b]" in
// float32, the comparison the exported ONNX model makes. Categorical features: one bin per category
// for the most frequent ones; the rest share an "other" bin that never becomes a split category.
import { kindOf, type FeatureKind, type FeatureMatrix } from './matrix.js';

/** How one feature's values map to bins. */
export interface FeatureBinning {
  kind: FeatureKind;
  /** Number of bins including the missing bin 0 (and the "other" bin of a categorical feature). */
  bins: number;
  /** Numeric: the float32 upper bound of bin b + 1 at index b (the last one is +Infinity). */
  upper: Float32Array;
  /** Categorical: the category code of bin b + 1 at index b; the "other" bin, if any, is bin `bins - 1`. */
  categories: Float32Array;
  /** Categorical: whether the last bin is the "other" bin (rare and unseen categories). */
  hasOther: boolean;
}

/** Category codes below this are binned through a lookup table (larger ones by binary search). */
const CODE_TABLE_LIMIT = 1 << 16;

/** A binned matrix: bins column-major (feature j's rows at [j·rows, (j+1)·rows)). */
export interface BinnedMatrix {
  rows: number;
  features: number;
  bins: Uint8Array;
  binnings: FeatureBinning[];
}

/** Options of {@link fitBinning}. */
export interface BinningOptions {
  /** Bins per feature including the missing bin, at most 256. @default 256 */
  maxBins?: number;
  /** Values sampled per numeric feature to place the quantiles. @default 200000 */
  sampleSize?: number;
}

/** Finds each feature's bins from the data (deterministic: a strided sample, no randomness). */
export function fitBinning(matrix: FeatureMatrix, options: BinningOptions = {}): FeatureBinning[] {
  const maxBins = Math.min(256, Math.max(3, options.maxBins ?? 256));
  const sampleSize = options.sampleSize ?? 200_000;
  return matrix.columns.map((column, j) =>
    kindOf(matrix, j) === 'categorical' ? categoricalBinning(column, maxBins) : numericBinning(column, maxBins - 1, sampleSize));
}

function numericBinning(column: Float32Array, valueBins: number, sampleSize: number): FeatureBinning {
  const step = Math.max(1, Math.floor(column.length / sampleSize));
  const sample: number[] = [];
  for (let i = 0; i < column.length; i += step) {
    const v = column[i]!;
    if (!Number.isNaN(v)) sample.push(v);
  }
  const sorted = Float32Array.from(sample).sort();
  // Distinct values with their counts.
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]! += 1;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const bounds: number[] = [];
  if (distinct.length <= valueBins) {
    for (let k = 0; k + 1 < distinct.length; k++) bounds.push(cut(distinct[k]!, distinct[k + 1]!));
  } else {
    // Greedy equal-frequency bins over distinct values: a heavy value never straddles two bins.
    const perBin = sorted.length / valueBins;
    let filled = 0;
    let inBin = 0;
    for (let k = 0; k + 1 < distinct.length && bounds.length < valueBins - 1; k++) {
      filled += counts[k]!;
      inBin += counts[k]!;
      const target = (bounds.length + 1) * perBin;
      if (filled >= target || inBin >= perBin) {
        bounds.push(cut(distinct[k]!, distinct[k + 1]!));
        inBin = 0;
      }
    }
  }
  bounds.push(Infinity);
  return { kind: 'numeric', bins: bounds.length + 1, upper: Float32Array.from(bounds), categories: new Float32Array(0), hasOther: false };
}

/** A float32 bound b with lo ≤ b < hi: the midpoint when float32 keeps it below hi, else lo. */
function cut(lo: number, hi: number): number {
  const mid = Math.fround((lo + hi) / 2);
  return mid >= lo && mid < hi ? mid : lo;
}

function categoricalBinning(column: Float32Array, maxBins: number): FeatureBinning {
  const counts = new Map<number, number>();
  // Codes below CODE_TABLE_LIMIT are counted in an array (several times faster than a Map).
  const small = new Float64Array(CODE_TABLE_LIMIT);
  for (let i = 0; i < column.length; i++) {
    const v = column[i]!;
    if (v >= 0 && v < CODE_TABLE_LIMIT && Number.isInteger(v)) small[v]! += 1;
    else if (!Number.isNaN(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  small.forEach((count, code) => { if (count > 0) counts.set(code, count); });
  // Most frequent first; ties by code so the binning is deterministic.
  const ordered = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([code]) => code);
  const room = maxBins - 1;
  // With 255 or more categories the last slot is the shared "other" bin (a byte holds 0..255).
  const hasOther = ordered.length >= room;
  const kept = hasOther ? ordered.slice(0, room - 1) : ordered;
  kept.sort((a, b) => a - b);
  return { kind: 'categorical', bins: kept.length + 1 + (hasOther ? 1 : 0), upper: new Float32Array(0), categories: Float32Array.from(kept), hasOther };
}

/** The bin of one value under a feature's binning. */
export function binOf(binning: FeatureBinning, value: number): number {
  if (Number.isNaN(value)) return 0;
  if (binning.kind === 'numeric') {
    const upper = binning.upper;
    let lo = 0;
    let hi = upper.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= upper[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  }
  const categories = binning.categories;
  let lo = 0;
  let hi = categories.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = categories[mid]!;
    if (c === value) return mid + 1;
    if (c < value) lo = mid + 1;
    else hi = mid - 1;
  }
  // An unseen or rare category: the "other" bin, or (with none) a bin past the known ones that no
  // split names, which sends it the same way as any category a split did not name.
  return binning.hasOther ? binning.bins - 1 : binning.bins;
}

/**
 * Bins a matrix with known binnings (the training binning, for training, validation and test data).
 * Categorical features without an "other" bin reserve one extra bin for unseen categories, so a
 * matrix's bin count per feature is `bins + 1` at most; it stays ≤ 256 because such a feature has
 * fewer than 255 categories.
 */
export function applyBinning(matrix: FeatureMatrix, binnings: FeatureBinning[]): BinnedMatrix {
  const rows = matrix.rows;
  const bins = new Uint8Array(rows * binnings.length);
  binnings.forEach((binning, j) => {
    const column = matrix.columns[j]!;
    const out = bins.subarray(j * rows, (j + 1) * rows);
    if (binning.kind === 'numeric' && binning.upper.length <= 64) {
      // Few bins: a linear scan beats the binary search's branches.
      const upper = binning.upper;
      for (let i = 0; i < rows; i++) {
        const v = column[i]!;
        if (v !== v) continue;
        let b = 0;
        while (v > upper[b]!) b++;
        out[i] = b + 1;
      }
    } else if (binning.kind === 'categorical' && binning.categories.length > 0 && binning.categories[binning.categories.length - 1]! < CODE_TABLE_LIMIT) {
      // Category codes are small integers: a table from code to bin replaces the binary search.
      const unseen = binOf(binning, -1);
      const table = new Uint8Array(binning.categories[binning.categories.length - 1]! + 1).fill(unseen);
      binning.categories.forEach((code, b) => { table[code] = b + 1; });
      for (let i = 0; i < rows; i++) {
        const v = column[i]!;
        out[i] = v !== v ? 0 : v >= 0 && v < table.length && Number.isInteger(v) ? table[v]! : unseen;
      }
    } else {
      for (let i = 0; i < rows; i++) out[i] = binOf(binning, column[i]!);
    }
  });
  return { rows, features: binnings.length, bins, binnings };
}

/** Total bin slots a histogram needs for a feature (the known bins plus the unseen-category slot). */
export function binSlots(binning: FeatureBinning): number {
  return binning.kind === 'categorical' && !binning.hasOther ? binning.bins + 1 : binning.bins;
}
