import { initRuntime, tf } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { classMetrics, evaluate } from './evaluate';
import { pixelImages, pixelModel } from './internal/testing';

beforeAll(async () => {
  await initRuntime();
});

describe('classMetrics', () => {
  it('computes precision, recall, F1, support and macro means from a confusion matrix', () => {
    const { perClass, macro } = classMetrics(
      [
        [5, 1, 0],
        [0, 4, 0],
        [0, 0, 0],
      ],
      ['a', 'b', 'c'],
    );
    expect(perClass[0]).toEqual({
      label: 'a',
      precision: 1,
      recall: 5 / 6,
      f1: (2 * (5 / 6)) / (1 + 5 / 6),
      support: 6,
    });
    expect(perClass[1]).toEqual({
      label: 'b',
      precision: 0.8,
      recall: 1,
      f1: (2 * 0.8) / 1.8,
      support: 4,
    });
    expect(perClass[2]).toEqual({ label: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
    expect(macro.precision).toBeCloseTo(0.9, 12);
    expect(macro.recall).toBeCloseTo((5 / 6 + 1) / 2, 12);
  });

  it('rejects a non-square matrix', () => {
    expect(() => classMetrics([[1, 2], [3]])).toThrow(
      /^matrix: expected a 2x2 confusion matrix, got 2 rows of lengths 2, 1$/,
    );
  });
});

describe('evaluate', () => {
  it('returns accuracy, loss, per-class metrics and the confusion matrix as plain JSON', async () => {
    const model = pixelModel();
    // predicted: 0, 0, 1 | 1, 1, 0
    const ds = pixelImages(
      [
        [255, 0],
        [200, 10],
        [0, 255],
        [0, 255],
        [5, 250],
        [255, 0],
      ],
      [0, 0, 0, 1, 1, 1],
    );
    const before = tf.memory().numTensors;
    const result = await evaluate(model, ds, { batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.count).toBe(6);
    expect(result.accuracy).toBeCloseTo(4 / 6, 12);
    expect(result.confusionMatrix).toEqual([
      [2, 1],
      [1, 2],
    ]);
    expect(result.labels).toEqual(['first', 'second']);
    expect(result.perClass.map((c) => c.support)).toEqual([3, 3]);
    const p = (a: number, b: number): number => 1 / (1 + Math.exp(-(10 * (a - b)) / 255));
    const expectedLoss =
      -(
        Math.log(p(255, 0)) +
        Math.log(p(200, 10)) +
        Math.log(p(0, 255)) +
        Math.log(p(255, 0)) +
        Math.log(p(245, 5)) +
        Math.log(p(0, 255))
      ) / 6;
    expect(result.loss).toBeCloseTo(expectedLoss, 4);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    model.dispose();
  });

  it.each([
    [
      'a shape that does not fit the model',
      {
        images: new Uint8Array(9),
        shape: [1, 3, 3, 1],
        labels: Int32Array.of(0),
        classNames: ['a', 'b'],
      },
      /^dataset\.shape: expected \[n, 2, 2, 1\] \(the model input\), got \[1, 3, 3, 1\]$/,
    ],
    [
      'a label out of range',
      { ...pixelImages([[1, 2]]), labels: Int32Array.of(2) },
      /^dataset\.labels\[0\]: expected a class index in \[0, 2\), got 2$/,
    ],
    [
      'too few class names',
      { ...pixelImages([[1, 2]]), classNames: ['a'] },
      /^dataset\.classNames: expected 2 class names/,
    ],
    [
      'images of the wrong length',
      { ...pixelImages([[1, 2]]), images: new Uint8Array(3) },
      /^dataset\.images: expected 4 values \(1x2x2x1\), got 3$/,
    ],
  ])('rejects %s with INVALID_DATA', async (_what, ds, message) => {
    const model = pixelModel();
    await expect(evaluate(model, ds as never)).rejects.toThrow(message);
    model.dispose();
  });
});
