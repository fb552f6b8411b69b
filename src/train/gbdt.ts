// Histogram-based gradient-boosted trees (in the manner of LightGBM and XGBoost's `hist`): binary
// logloss, multiclass softmax and squared-error regression; depth-wise trees with optional leaf
// budget; row and column subsampling; early stopping on a validation set; deterministic for a seed.
import { PlinthError } from '../core/index.js';
import { applyBinning, fitBinning, type FeatureBinning } from './binning.js';
import { histogramLayout } from './histogram.js';
import { checkLabels, checkMatrix, kindOf, type FeatureKind, type FeatureMatrix, type Task } from './matrix.js';
import { MIN_HESSIAN, baseScores, computeGradients, scoreColumns, transformScores, validationLoss } from './objectives.js';
import { TrainingPool } from './parallel.js';
import { Random } from './random.js';
import { growTree, leafOfBinned, leafOfValues, slotsOf, type Tree } from './tree.js';

/** Parameters of {@link trainGbdt}; every one has a default. */
export interface GbdtParams {
  /** Boosting rounds (trees per score column). @default 100 */
  trees?: number;
  /** Shrinkage of each tree's leaf values. @default 0.1 */
  learningRate?: number;
  /** Maximum tree depth (root at depth 0). @default 6 */
  maxDepth?: number;
  /** Maximum leaves per tree; 0 for no limit beyond the depth. @default 0 */
  maxLeaves?: number;
  /** Minimum hessian sum in a child. @default 1 */
  minChildWeight?: number;
  /** Minimum rows in a child. @default 1 */
  minSamplesLeaf?: number;
  /** L2 regularisation of leaf values. @default 1 */
  lambda?: number;
  /** Minimum gain of a split (XGBoost's gamma). @default 0 */
  minSplitGain?: number;
  /** Fraction of rows sampled per round (without replacement, Bernoulli). @default 1 */
  subsample?: number;
  /** Fraction of features sampled per tree. @default 1 */
  colsampleByTree?: number;
  /** Bins per feature, including the missing bin, ≤ 256. @default 256 */
  maxBins?: number;
  /** Stop when the validation loss has not improved for this many rounds; 0 disables. @default 0 */
  earlyStoppingRounds?: number;
  /** PRNG seed. @default 0 */
  seed?: number;
  /** Threads building histograms (the caller's plus workers); 0 means one per core. @default 0 */
  threads?: number;
}

/** A trained ensemble. Trees are in round order; tree t predicts score column `t mod columns`. */
export interface GbdtModel {
  algorithm: 'gbdt';
  task: Task;
  /** Number of classes (2 for binary, 1 for regression). */
  classes: number;
  featureNames: string[];
  featureKinds: FeatureKind[];
  /** Starting score per score column (float32 values). */
  baseScores: number[];
  trees: Tree[];
  /** Rounds kept (the best round when early stopping stopped training). */
  rounds: number;
  /** Validation loss per round, when a validation set was given. */
  validationLoss: number[];
  binnings: FeatureBinning[];
  params: Required<GbdtParams>;
}

const DEFAULTS: Required<GbdtParams> = {
  trees: 100, learningRate: 0.1, maxDepth: 6, maxLeaves: 0, minChildWeight: 1, minSamplesLeaf: 1, lambda: 1,
  minSplitGain: 0, subsample: 1, colsampleByTree: 1, maxBins: 256, earlyStoppingRounds: 0, seed: 0, threads: 0,
};

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

function checkParams(p: Required<GbdtParams>): void {
  const positiveInt = (name: keyof GbdtParams, min: number) => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min) throw invalid(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  positiveInt('trees', 1);
  positiveInt('maxDepth', 1);
  positiveInt('maxLeaves', 0);
  positiveInt('minSamplesLeaf', 1);
  positiveInt('earlyStoppingRounds', 0);
  positiveInt('threads', 0);
  positiveInt('maxBins', 3);
  if (p.maxBins > 256) throw invalid(`maxBins is at most 256, got ${p.maxBins}`);
  if (!(p.learningRate > 0)) throw invalid(`learningRate must be > 0, got ${p.learningRate}`);
  if (!(p.lambda >= 0)) throw invalid(`lambda must be ≥ 0, got ${p.lambda}`);
  if (!(p.minChildWeight >= 0)) throw invalid(`minChildWeight must be ≥ 0, got ${p.minChildWeight}`);
  if (!(p.minSplitGain >= 0)) throw invalid(`minSplitGain must be ≥ 0, got ${p.minSplitGain}`);
  if (!(p.subsample > 0 && p.subsample <= 1)) throw invalid(`subsample must be in (0, 1], got ${p.subsample}`);
  if (!(p.colsampleByTree > 0 && p.colsampleByTree <= 1)) throw invalid(`colsampleByTree must be in (0, 1], got ${p.colsampleByTree}`);
}

/** Training input of {@link trainGbdt}. */
export interface GbdtInput {
  task: Task;
  features: FeatureMatrix;
  /** Class ids 0..K−1 (binary: 0/1) or regression targets. */
  labels: ArrayLike<number>;
  /** Number of classes for multiclass; default: the largest label + 1. */
  classes?: number;
  validation?: { features: FeatureMatrix; labels: ArrayLike<number> };
  params?: GbdtParams;
  /** Called after each round with the round number (1-based) and the validation loss, if any. */
  onRound?: (round: number, validationLoss: number | undefined) => void;
}

/**
 * Trains a gradient-boosted tree ensemble.
 * @throws PlinthError INVALID_ARGUMENT for a bad matrix, labels (missing, non-finite, single class,
 *   constant) or parameters, before any training work.
 */
export function trainGbdt(input: GbdtInput): GbdtModel {
  const params: Required<GbdtParams> = { ...DEFAULTS, ...input.params };
  checkParams(params);
  const { task, features } = input;
  checkMatrix(features);
  const found = checkLabels(input.labels, features.rows, task);
  const classes = task === 'multiclass' ? Math.max(found, input.classes ?? 0) : found;
  if (task === 'multiclass' && classes < 3) throw invalid('multiclass needs at least 3 classes; use binary for 2');
  if (input.validation) {
    checkMatrix(input.validation.features);
    if (input.validation.features.columns.length !== features.columns.length) throw invalid('the validation set has a different number of features');
    if (input.validation.labels.length !== input.validation.features.rows) throw invalid('validation labels and rows differ in number');
  }
  const rows = features.rows;
  const columns = scoreColumns(task, classes);
  const binnings = fitBinning(features, { maxBins: params.maxBins });
  const data = applyBinning(features, binnings);
  const layout = histogramLayout(slotsOf(data));
  const labels = input.labels;
  const base = baseScores(task, labels, classes);
  const valid = input.validation ? applyBinning(input.validation.features, binnings) : null;
  const validScores = valid ? new Float64Array(valid.rows * columns) : null;
  if (valid && validScores) for (let k = 0; k < columns; k++) validScores.fill(base[k]!, k * valid.rows, (k + 1) * valid.rows);

  const random = new Random(params.seed);
  const treeParams = {
    maxDepth: params.maxDepth, maxLeaves: params.maxLeaves, minChildWeight: params.minChildWeight,
    minSamplesLeaf: params.minSamplesLeaf, lambda: params.lambda, minSplitGain: params.minSplitGain, learningRate: params.learningRate,
  };
  // Scores, gradients (interleaved with hessians) and the row index live in the pool's shared memory.
  const pool = new TrainingPool(data, layout, { threads: params.threads, columns, labels, classLabels: task !== 'regression', minHessian: MIN_HESSIAN });
  const { scores, gh, index } = pool;
  for (let k = 0; k < columns; k++) scores.fill(base[k]!, k * rows, (k + 1) * rows);
  const histograms: Float64Array[] = [];
  const trees: Tree[] = [];
  const losses: number[] = [];
  let best = Infinity;
  let bestRound = 0;
  let gradientsReady = false;
  try {
    for (let round = 1; round <= params.trees; round++) {
      // Rows of this round, ascending.
      let count = rows;
      const all = params.subsample >= 1;
      if (all) for (let i = 0; i < rows; i++) index[i] = i;
      else {
        count = 0;
        for (let i = 0; i < rows; i++) if (random.next() < params.subsample) index[count++] = i;
        if (count === 0) index[count++] = random.int(rows);
      }
      const chosen = sampleFeatures(features.columns.length, params.colsampleByTree, random);
      // Each score column's tree reorders the index; later columns start again from the round's rows.
      const roundStart = columns > 1 ? Int32Array.from(index.subarray(0, count)) : null;
      for (let k = 0; k < columns; k++) {
        if (k > 0 && roundStart) index.set(roundStart);
        if (!gradientsReady) computeGradients(task, k, columns, scores, labels, rows, all ? null : index, count, gh);
        gradientsReady = false;
        // With every row and one score column, the pool routes the last level's rows straight to
        // their leaf values, adds them to the scores and computes the next round's gradients.
        const fused = all && columns === 1;
        const { tree, ranges } = growTree(data, layout, pool, count, all, chosen, treeParams, fused, histograms);
        trees.push(tree);
        const offset = k * rows;
        if (fused) {
          pool.applyLeaves(ranges, ranges.leaves.map((leaf) => tree.value[leaf]!), task === 'binary');
          gradientsReady = true;
        } else if (all) {
          for (let l = 0; l < ranges.leaves.length; l++) {
            const value = tree.value[ranges.leaves[l]!]!;
            for (let i = ranges.starts[l]!; i < ranges.ends[l]!; i++) scores[offset + index[i]!]! += value;
          }
        } else {
          for (let r = 0; r < rows; r++) scores[offset + r]! += tree.value[leafOfBinned(tree, data.bins, rows, r)]!;
        }
        if (valid && validScores) {
          const vOffset = k * valid.rows;
          for (let r = 0; r < valid.rows; r++) validScores[vOffset + r]! += tree.value[leafOfBinned(tree, valid.bins, valid.rows, r)]!;
        }
      }
      let loss: number | undefined;
      if (valid && validScores) {
        loss = validationLoss(task, columns, validScores, input.validation!.labels, valid.rows);
        losses.push(loss);
        if (loss < best - 1e-12) { best = loss; bestRound = round; }
      } else bestRound = round;
      input.onRound?.(round, loss);
      if (params.earlyStoppingRounds > 0 && valid && round - bestRound >= params.earlyStoppingRounds) break;
    }
  } finally {
    pool.close();
  }
  const rounds = valid && params.earlyStoppingRounds > 0 ? bestRound : trees.length / columns;
  return {
    algorithm: 'gbdt', task, classes, featureNames: [...features.names],
    featureKinds: features.columns.map((_, j) => kindOf(features, j)),
    baseScores: base, trees: trees.slice(0, rounds * columns), rounds, validationLoss: losses, binnings, params,
  };
}

function sampleFeatures(count: number, fraction: number, random: Random): Int32Array {
  const all = Int32Array.from({ length: count }, (_, j) => j);
  if (fraction >= 1) return all;
  const keep = Math.max(1, Math.round(count * fraction));
  return random.shuffle(all).subarray(0, keep).sort();
}

/**
 * Raw scores of a model on a matrix, class-major ([columns · rows]), from float32 comparisons with
 * the float32 thresholds the ONNX export holds.
 * @throws PlinthError INVALID_ARGUMENT when the matrix has a different number of features.
 */
export function gbdtScores(model: GbdtModel, matrix: FeatureMatrix): Float64Array {
  if (matrix.columns.length !== model.featureNames.length) throw invalid(`the model has ${model.featureNames.length} features, the matrix ${matrix.columns.length}`);
  const columns = scoreColumns(model.task, model.classes);
  const rows = matrix.rows;
  const scores = new Float64Array(rows * columns);
  for (let k = 0; k < columns; k++) scores.fill(model.baseScores[k]!, k * rows, (k + 1) * rows);
  model.trees.forEach((tree, t) => {
    const offset = (t % columns) * rows;
    for (let r = 0; r < rows; r++) scores[offset + r]! += tree.value[leafOfValues(tree, matrix.columns, r)]!;
  });
  return scores;
}

/**
 * Predictions, row-major: [rows, 2] probabilities for binary, [rows, K] for multiclass, [rows]
 * values for regression.
 */
export function predictGbdt(model: GbdtModel, matrix: FeatureMatrix): Float64Array {
  return transformScores(model.task, scoreColumns(model.task, model.classes), gbdtScores(model, matrix), matrix.rows);
}

/** Total split gain per feature (gain-based importance), in feature order. */
export function gbdtGainImportance(model: GbdtModel): Float64Array {
  const out = new Float64Array(model.featureNames.length);
  for (const tree of model.trees) {
    for (let n = 0; n < tree.nodes; n++) if (tree.feature[n]! >= 0) out[tree.feature[n]!]! += tree.gain[n]!;
  }
  return out;
}
