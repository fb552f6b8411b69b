// One regression tree on gradient statistics, grown depth-wise (level by level, as XGBoost's
// default `depthwise` policy) from histograms: each level builds the histogram of the smaller child
// of every split and gets the larger one by subtraction from its parent. With `maxLeaves` set, a
// level splits its nodes in order of gain until the tree has that many leaves.
// Numeric splits send bins ≤ b left; categorical splits are one-vs-rest (category c left, every
// other category right), which ONNX's BRANCH_EQ evaluates exactly; bin 0 (missing) goes the way
// the split learned (its default direction).
import { binSlots, type BinnedMatrix } from './binning.js';
import { subtractHistogram, type HistogramLayout } from './histogram.js';

/** Node kinds in {@link Tree.kind}. */
export const LEAF = 0;
export const NUMERIC_SPLIT = 1;
export const CATEGORY_SPLIT = 2;

/**
 * A tree as parallel arrays indexed by node id (root 0). For splits: `feature`, `bin` (the last
 * bin sent left, or the category's bin), `threshold` (the float32 upper bound or category code),
 * `defaultLeft` (where missing values go), `left`/`right` children, `gain`. For leaves: `value`,
 * a float32 already scaled by the learning rate. `cover` is the hessian sum of every node.
 */
export interface Tree {
  nodes: number;
  kind: Uint8Array;
  feature: Int32Array;
  bin: Int32Array;
  threshold: Float32Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  gain: Float64Array;
  cover: Float64Array;
}

/** Split-search and growth settings of one tree. */
export interface TreeParams {
  maxDepth: number;
  /** 0 for no limit. */
  maxLeaves: number;
  minChildWeight: number;
  minSamplesLeaf: number;
  lambda: number;
  minSplitGain: number;
  learningRate: number;
}

/** A split to apply to the rows `index[start..end)`: see {@link TreeKernels.partition}. */
export interface PartitionTask {
  start: number;
  end: number;
  feature: number;
  /** Numeric: the last bin sent left; categorical: the bin sent left. */
  cut: number;
  categorical: boolean;
  /** Where bin 0 (missing) goes. */
  missingLeft: boolean;
}

/** The heavy loops of tree growth, over the row index and gradients they hold (see parallel.ts). */
export interface TreeKernels {
  /**
   * For each task i, fills `hists[i]` (zeroed here) with the rows `index[starts[i]..ends[i])`
   * over `features`; `all` marks the root when it holds every row in order.
   */
  histograms(starts: number[], ends: number[], all: boolean, features: Int32Array, hists: Float64Array[]): void;
  /**
   * Stable partition of each task's rows in `index` by its split; returns, per task, where the
   * right side begins.
   */
  partition(tasks: PartitionTask[]): number[];
}

interface Split {
  gain: number;
  feature: number;
  bin: number;
  kind: number;
  defaultLeft: boolean;
  gl: number;
  hl: number;
  nl: number;
}

interface LevelNode {
  id: number;
  start: number;
  end: number;
  g: number;
  h: number;
  n: number;
  hist: Float64Array;
}

/** A split of the last level whose children are both leaves, left unpartitioned (see growTree). */
export interface FinalSplit extends PartitionTask {
  leftValue: number;
  rightValue: number;
}

/**
 * Where each leaf's rows lie in the index array after growth: leaf ids and their ranges, and the
 * last level's splits when growTree was asked not to partition them.
 */
export interface LeafRanges {
  leaves: number[];
  starts: number[];
  ends: number[];
  finalSplits: FinalSplit[];
}

class TreeBuilder {
  kind: number[] = [];
  feature: number[] = [];
  bin: number[] = [];
  threshold: number[] = [];
  defaultLeft: number[] = [];
  left: number[] = [];
  right: number[] = [];
  value: number[] = [];
  gain: number[] = [];
  cover: number[] = [];
  add(cover: number): number {
    this.kind.push(LEAF); this.feature.push(-1); this.bin.push(0); this.threshold.push(0); this.defaultLeft.push(0);
    this.left.push(-1); this.right.push(-1); this.value.push(0); this.gain.push(0); this.cover.push(cover);
    return this.kind.length - 1;
  }
  finish(): Tree {
    return {
      nodes: this.kind.length,
      kind: Uint8Array.from(this.kind),
      feature: Int32Array.from(this.feature),
      bin: Int32Array.from(this.bin),
      threshold: Float32Array.from(this.threshold),
      defaultLeft: Uint8Array.from(this.defaultLeft),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      value: Float32Array.from(this.value),
      gain: Float64Array.from(this.gain),
      cover: Float64Array.from(this.cover),
    };
  }
}

/**
 * Grows one tree over the rows `index[0..count)` of the kernels' row index (sorted ascending;
 * reordered in place into leaf ranges), from the kernels' gradients. `all` says the rows are every
 * row of `data` in order (no subsampling). With `deferFinalSplits`, the splits of the last level
 * (whose children are leaves at `maxDepth`) are not partitioned but returned in
 * `ranges.finalSplits`, for the caller to route their rows to the two leaf values in one pass.
 * `pool` holds spare histograms, reused and refilled.
 */
export function growTree(
  data: BinnedMatrix, layout: HistogramLayout, kernels: TreeKernels, count: number, all: boolean,
  features: Int32Array, params: TreeParams, deferFinalSplits = false, pool: Float64Array[] = [],
): { tree: Tree; ranges: LeafRanges } {
  const tree = new TreeBuilder();
  const size = layout.total * 3;
  // Histograms of finished levels go back to `pool` (which a caller may keep from tree to tree).
  const take = () => pool.pop() ?? new Float64Array(size);
  const rootHist = take();
  kernels.histograms([0], [count], all, features, [rootHist]);
  // The root's sums from one feature's bins: every row lies in exactly one of them.
  let g = 0;
  let h = 0;
  for (let k = layout.offsets[features[0]!]! * 3; k < layout.offsets[features[0]! + 1]! * 3; k += 3) {
    g += rootHist[k]!;
    h += rootHist[k + 1]!;
  }
  let level: LevelNode[] = [{ id: tree.add(h), start: 0, end: count, g, h, n: count, hist: rootHist }];
  const ranges: LeafRanges = { leaves: [], starts: [], ends: [], finalSplits: [] };
  let leaves = 1;
  const leafValue = (g: number, h: number) => Math.fround((-g / (h + params.lambda)) * params.learningRate);
  const makeLeaf = (node: LevelNode) => {
    tree.value[node.id] = leafValue(node.g, node.h);
    ranges.leaves.push(node.id);
    ranges.starts.push(node.start);
    ranges.ends.push(node.end);
  };
  const setSplit = (id: number, split: Split) => {
    const binning = data.binnings[split.feature]!;
    tree.kind[id] = split.kind;
    tree.feature[id] = split.feature;
    tree.bin[id] = split.bin;
    tree.threshold[id] = split.kind === NUMERIC_SPLIT ? binning.upper[split.bin - 1]! : binning.categories[split.bin - 1]!;
    tree.defaultLeft[id] = split.defaultLeft ? 1 : 0;
    tree.gain[id] = split.gain;
  };
  for (let depth = 0; level.length > 0; depth++) {
    const candidates: Array<{ node: LevelNode; split: Split }> = [];
    for (const node of level) {
      const split = depth < params.maxDepth ? bestSplit(data, layout, node, features, params) : null;
      if (split) candidates.push({ node, split });
      else makeLeaf(node);
    }
    // Highest gain first, so a leaf budget goes to the best splits (node id breaks ties: deterministic).
    candidates.sort((a, b) => b.split.gain - a.split.gain || a.node.id - b.node.id);
    const splitting: Array<{ node: LevelNode; split: Split }> = [];
    for (const candidate of candidates) {
      if (params.maxLeaves > 0 && leaves >= params.maxLeaves) { makeLeaf(candidate.node); continue; }
      leaves += 1;
      splitting.push(candidate);
    }
    const tasks = splitting.map(({ node, split }): PartitionTask => ({
      start: node.start, end: node.end, feature: split.feature, cut: split.bin,
      categorical: split.kind === CATEGORY_SPLIT, missingLeft: split.defaultLeft,
    }));
    // Children at maxDepth never split, so their histograms are not needed.
    const needHistograms = depth + 1 < params.maxDepth;
    if (deferFinalSplits && !needHistograms) {
      splitting.forEach(({ node, split }, s) => {
        setSplit(node.id, split);
        const left = tree.add(split.hl);
        const right = tree.add(node.h - split.hl);
        tree.left[node.id] = left;
        tree.right[node.id] = right;
        tree.value[left] = leafValue(split.gl, split.hl);
        tree.value[right] = leafValue(node.g - split.gl, node.h - split.hl);
        ranges.finalSplits.push({ ...tasks[s]!, leftValue: tree.value[left]!, rightValue: tree.value[right]! });
      });
      for (const node of level) pool.push(node.hist);
      break;
    }
    const mids = kernels.partition(tasks);
    const next: LevelNode[] = [];
    const small: LevelNode[] = [];
    const large: Array<{ node: LevelNode; parent: Float64Array }> = [];
    splitting.forEach(({ node, split }, s) => {
      const mid = mids[s]!;
      const id = node.id;
      setSplit(id, split);
      const nl = mid - node.start;
      const nr = node.end - mid;
      const histOf = () => (needHistograms ? take() : node.hist);
      const leftNode: LevelNode = { id: tree.add(split.hl), start: node.start, end: mid, g: split.gl, h: split.hl, n: nl, hist: histOf() };
      const rightNode: LevelNode = { id: tree.add(node.h - split.hl), start: mid, end: node.end, g: node.g - split.gl, h: node.h - split.hl, n: nr, hist: histOf() };
      tree.left[id] = leftNode.id;
      tree.right[id] = rightNode.id;
      if (nl <= nr) { small.push(leftNode); large.push({ node: rightNode, parent: node.hist }); }
      else { small.push(rightNode); large.push({ node: leftNode, parent: node.hist }); }
      next.push(leftNode, rightNode);
    });
    if (needHistograms && small.length > 0) {
      kernels.histograms(small.map((s) => s.start), small.map((s) => s.end), false, features, small.map((s) => s.hist));
      small.forEach((s, i) => subtractHistogram(large[i]!.parent, s.hist, large[i]!.node.hist));
    }
    // Children at maxDepth hold their parent's histogram and never read it.
    if (depth < params.maxDepth) for (const node of level) pool.push(node.hist);
    level = next;
  }
  return { tree: tree.finish(), ranges };
}

/** Gain of sending (gl, hl, nl) left and the rest right, or −Infinity when a child is too small. */
function gainOf(node: LevelNode, gl: number, hl: number, nl: number, params: TreeParams, parentScore: number): number {
  const hr = node.h - hl;
  const nr = node.n - nl;
  if (hl < params.minChildWeight || hr < params.minChildWeight || nl < params.minSamplesLeaf || nr < params.minSamplesLeaf) return -Infinity;
  const gr = node.g - gl;
  return 0.5 * ((gl * gl) / (hl + params.lambda) + (gr * gr) / (hr + params.lambda) - parentScore);
}

/** Keeps `candidate` in `best` when its gain is larger (first found wins ties: deterministic). */
function offer(best: Split, gain: number, feature: number, bin: number, kind: number, defaultLeft: boolean, gl: number, hl: number, nl: number): void {
  if (gain > best.gain + 1e-12) {
    best.gain = gain; best.feature = feature; best.bin = bin; best.kind = kind; best.defaultLeft = defaultLeft;
    best.gl = gl; best.hl = hl; best.nl = nl;
  }
}

/** The best split of a node over the sampled features, or null when none passes the constraints. */
function bestSplit(data: BinnedMatrix, layout: HistogramLayout, node: LevelNode, features: Int32Array, params: TreeParams): Split | null {
  if (node.n < 2 * params.minSamplesLeaf || node.h < 2 * params.minChildWeight) return null;
  const hist = node.hist;
  const parentScore = (node.g * node.g) / (node.h + params.lambda);
  const best: Split = { gain: params.minSplitGain, feature: -1, bin: 0, kind: LEAF, defaultLeft: false, gl: 0, hl: 0, nl: 0 };
  for (let f = 0; f < features.length; f++) {
    const j = features[f]!;
    const binning = data.binnings[j]!;
    const base = layout.offsets[j]! * 3;
    const mg = hist[base]!;
    const mh = hist[base + 1]!;
    const mn = hist[base + 2]!;
    if (binning.kind === 'numeric') {
      let cg = 0;
      let ch = 0;
      let cn = 0;
      // Split after bin b: bins 1..b left. After the last value bin only "every value left,
      // missing right" remains (threshold +Infinity), a split worth having when values are missing.
      const lastValueBin = binning.bins - 1;
      for (let b = 1; b <= lastValueBin; b++) {
        const k = base + b * 3;
        cg += hist[k]!;
        ch += hist[k + 1]!;
        cn += hist[k + 2]!;
        if (cn === 0) continue;
        if (b === lastValueBin) {
          if (mn > 0) offer(best, gainOf(node, cg, ch, cn, params, parentScore), j, b, NUMERIC_SPLIT, false, cg, ch, cn);
        } else if (mn > 0) {
          offer(best, gainOf(node, cg + mg, ch + mh, cn + mn, params, parentScore), j, b, NUMERIC_SPLIT, true, cg + mg, ch + mh, cn + mn);
          offer(best, gainOf(node, cg, ch, cn, params, parentScore), j, b, NUMERIC_SPLIT, false, cg, ch, cn);
        } else {
          // No missing values here: they go to the side with more rows when predicting.
          offer(best, gainOf(node, cg, ch, cn, params, parentScore), j, b, NUMERIC_SPLIT, cn >= node.n - cn, cg, ch, cn);
        }
      }
    } else {
      const last = binning.hasOther ? binning.bins - 1 : binning.bins;
      for (let b = 1; b < last; b++) {
        const k = base + b * 3;
        const cg = hist[k]!;
        const ch = hist[k + 1]!;
        const cn = hist[k + 2]!;
        if (cn === 0) continue;
        if (mn > 0) {
          offer(best, gainOf(node, cg + mg, ch + mh, cn + mn, params, parentScore), j, b, CATEGORY_SPLIT, true, cg + mg, ch + mh, cn + mn);
          offer(best, gainOf(node, cg, ch, cn, params, parentScore), j, b, CATEGORY_SPLIT, false, cg, ch, cn);
        } else {
          offer(best, gainOf(node, cg, ch, cn, params, parentScore), j, b, CATEGORY_SPLIT, false, cg, ch, cn);
        }
      }
    }
  }
  return best.feature >= 0 ? best : null;
}

/** The leaf a binned row reaches. @param column bins of row `row` are at `bins[j·rows + row]`. */
export function leafOfBinned(tree: Tree, bins: Uint8Array, rows: number, row: number): number {
  let node = 0;
  while (tree.kind[node] !== LEAF) {
    const b = bins[tree.feature[node]! * rows + row]!;
    const goLeft = b === 0 ? tree.defaultLeft[node] === 1 : tree.kind[node] === NUMERIC_SPLIT ? b <= tree.bin[node]! : b === tree.bin[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

/**
 * The leaf a raw row reaches, comparing float32 values with the float32 thresholds exactly as
 * ONNX's BRANCH_LEQ / BRANCH_EQ with `nodes_missing_value_tracks_true` do.
 */
export function leafOfValues(tree: Tree, columns: Float32Array[], row: number): number {
  let node = 0;
  while (tree.kind[node] !== LEAF) {
    const v = columns[tree.feature[node]!]![row]!;
    const goLeft = v !== v ? tree.defaultLeft[node] === 1 : tree.kind[node] === NUMERIC_SPLIT ? v <= tree.threshold[node]! : v === tree.threshold[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

/** Number of histogram slots per feature for a binned matrix. */
export function slotsOf(data: BinnedMatrix): Int32Array {
  return Int32Array.from(data.binnings.map(binSlots));
}
