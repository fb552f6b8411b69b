// Gradient histograms: for each feature and bin, the sums of gradients and hessians and the row
// count of a node's rows. Layout: one Float64Array per node, three slots per bin (g, h, n), features
// one after another at `offsets[j]`. The kernels that fill them are in kernels.ts.

/** Where each feature's bins start in a histogram, in bins (multiply by 3 for the array index). */
export interface HistogramLayout {
  offsets: Int32Array;
  /** Total bins over all features. */
  total: number;
}

/** A layout for features with `slots[j]` bins each. */
export function histogramLayout(slots: ArrayLike<number>): HistogramLayout {
  const offsets = new Int32Array(slots.length + 1);
  for (let j = 0; j < slots.length; j++) offsets[j + 1] = offsets[j]! + slots[j]!;
  return { offsets, total: offsets[slots.length]! };
}

/** `out = parent − child`, bin by bin (the histogram subtraction trick for the larger sibling). */
export function subtractHistogram(parent: Float64Array, child: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = parent[i]! - child[i]!;
}
