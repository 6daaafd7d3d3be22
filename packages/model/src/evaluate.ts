import type { ImageDataset } from '@mlship/data';
import type { tf } from '@mlship/tf';
import { ModelError } from './errors';
import { checkDataset, inputSpecOf } from './internal/data';
import { checkOptionKeys, keysOf, positiveIntOption } from './internal/options';
import { ensureRuntime } from './internal/runtime';
import { EPSILON, forwardBatches } from './internal/forward';
import type { InputSpec } from '@mlship/core';

/** Precision, recall and F1 of one class. */
export interface ClassMetrics {
  /** The class name. */
  label: string;
  /** Of the images predicted as this class, the fraction that are (0 when none was predicted). */
  precision: number;
  /** Of the images of this class, the fraction predicted as it (0 when the class has no images). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Number of images of this class. */
  support: number;
}

/** What {@link evaluate} returns: plain, JSON-serialisable numbers. */
export interface Evaluation {
  /** Number of images evaluated. */
  count: number;
  /** Fraction classified correctly. */
  accuracy: number;
  /** Mean categorical cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7]). */
  loss: number;
  /** Class names, index = class index. */
  labels: string[];
  /** Per-class precision/recall/F1/support, in class order. */
  perClass: ClassMetrics[];
  /** Unweighted means over classes with support > 0. */
  macro: { precision: number; recall: number; f1: number };
  /** `confusionMatrix[trueClass][predictedClass]` = count. */
  confusionMatrix: number[][];
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number;
  /** How the model scales raw Uint8 pixels (default: the spec/`mlship.json` input the model was built or loaded with, else scale 1/255, offset 0). */
  input?: InputSpec;
}

const EVALUATE_OPTION_KEYS = keysOf<EvaluateOptions>({ batchSize: true, input: true });

/**
 * Per-class precision, recall, F1 and their macro averages from a confusion matrix.
 *
 * @param matrix - `matrix[trueClass][predictedClass]` counts, square
 * @param labels - class names (default `'0'`, `'1'`, ...)
 * @returns per-class metrics and macro averages
 * @throws {@link ModelError} `INVALID_OPTION` when the matrix is not square or labels do not match
 * @example
 * ```ts
 * classMetrics([[5, 1], [0, 4]]).perClass[0]; // { label: '0', precision: 1, recall: 0.833.., f1: 0.909.., support: 6 }
 * ```
 */
export function classMetrics(
  matrix: readonly (readonly number[])[],
  labels: readonly string[] = matrix.map((_, i) => String(i)),
): { perClass: ClassMetrics[]; macro: { precision: number; recall: number; f1: number } } {
  const k = matrix.length;
  if (matrix.some((row) => row.length !== k) || labels.length !== k) {
    throw new ModelError(
      'INVALID_OPTION',
      `matrix: expected a ${labels.length}x${labels.length} confusion matrix, got ${k} rows of lengths ${matrix.map((r) => r.length).join(', ')}`,
    );
  }
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = matrix[c]![c]!;
    const support = matrix[c]!.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let r = 0; r < k; r++) predicted += matrix[r]![c]!;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ label: labels[c]!, precision, recall, f1, support });
  }
  const present = perClass.filter((m) => m.support > 0);
  const mean = (f: (m: ClassMetrics) => number): number =>
    present.length === 0 ? 0 : present.reduce((a, m) => a + f(m), 0) / present.length;
  return {
    perClass,
    macro: {
      precision: mean((m) => m.precision),
      recall: mean((m) => m.recall),
      f1: mean((m) => m.f1),
    },
  };
}

/**
 * Evaluates a classifier on a labelled dataset, batch by batch (no leaks, bounded memory).
 *
 * @param model - the model (inference mode: dropout off, batch norm uses moving statistics)
 * @param ds - the dataset; Uint8 images are scaled by `options.input`
 * @param options - `batchSize`, `input`
 * @returns accuracy, loss, per-class metrics and the confusion matrix as plain JSON
 * @throws {@link ModelError} `INVALID_DATA` when the dataset does not fit the model or labels are out of range, `INVALID_OPTION` for a bad `batchSize`
 * @example
 * ```ts
 * const { accuracy, confusionMatrix } = await evaluate(model, await loadMnist({ split: 'test' }));
 * ```
 */
export async function evaluate(
  model: tf.LayersModel,
  ds: ImageDataset,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  checkOptionKeys(options, EVALUATE_OPTION_KEYS, 'evaluate options');
  const input = inputSpecOf(model, options.input);
  const batchSize = positiveIntOption(options.batchSize, 'batchSize', 256);
  const outShape = model.outputs[0]?.shape ?? [];
  const classes = outShape[outShape.length - 1] ?? 0;
  checkDataset(ds, input, 'dataset', classes);
  if (ds.classNames.length !== classes) {
    throw new ModelError(
      'INVALID_DATA',
      `dataset.classNames: expected ${classes} class names (the model's outputs), got ${ds.classNames.length}`,
      {
        data: { path: 'dataset.classNames' },
      },
    );
  }
  await ensureRuntime('evaluate');
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  let correct = 0;
  await forwardBatches(model, ds, input, batchSize, (probs, start, count, k) => {
    for (let i = 0; i < count; i++) {
      const row = i * k;
      let best = 0;
      for (let j = 1; j < k; j++) if (probs[row + j]! > probs[row + best]!) best = j;
      const label = ds.labels[start + i]!;
      const p = Math.min(Math.max(probs[row + label]!, EPSILON), 1 - EPSILON);
      lossSum -= Math.log(p);
      matrix[label]![best]! += 1;
      if (best === label) correct += 1;
    }
  });
  const n = ds.shape[0];
  const labels = [...ds.classNames];
  const { perClass, macro } = classMetrics(matrix, labels);
  return {
    count: n,
    accuracy: correct / n,
    loss: lossSum / n,
    labels,
    perClass,
    macro,
    confusionMatrix: matrix,
  };
}
