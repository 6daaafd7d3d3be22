import { PassThrough } from 'node:stream';
import { initRuntime } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './build';
import { halvesDataset, tinySpec } from './internal/testing';
import { progressBar } from './progress-bar';
import type { ProgressStream } from './progress-bar';
import { train } from './train/train';
import type { TrainProgress } from './train/types';

beforeAll(async () => {
  await initRuntime();
});

/** A real stream that keeps what was written. */
function capture(tty: boolean, columns?: number): ProgressStream & { text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b.toString()));
  return Object.assign(stream, {
    isTTY: tty,
    ...(columns === undefined ? {} : { columns }),
    text: () => chunks.join(''),
  });
}

const event = (batch: number, epoch = 1): TrainProgress => ({
  epoch,
  epochs: 2,
  batch,
  batches: 4,
  loss: 0.5,
  accuracy: 0.75,
  epochLoss: 0.61234,
  epochAccuracy: 0.8125,
  images: batch * 8,
  learningRate: 0.001,
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('progressBar', () => {
  it('redraws one line per epoch on a terminal and ends it when the epoch ends', async () => {
    const out = capture(true);
    const report = progressBar({ stream: out, width: 8 });
    expect(out.text()).toBe(''); // nothing is written until train reports progress
    report(event(2));
    report(event(4));
    await tick();
    expect(out.text()).toBe(
      '\repoch 1/2 [===>    ] 2/4 loss 0.6123 accuracy 0.8125 lr 0.00100\x1b[K' +
        '\repoch 1/2 [========] 4/4 loss 0.6123 accuracy 0.8125 lr 0.00100\x1b[K\n',
    );
  });

  it('never writes a line wider than the terminal', async () => {
    const out = capture(true, 30);
    progressBar({ stream: out })(event(1));
    await tick();
    expect(out.text()).toBe(`\repoch 1/2 [=====>${' '.repeat(12)}\x1b[K`); // 29 columns of text
  });

  it('writes one line per finished epoch elsewhere (a log file, CI)', async () => {
    const out = capture(false);
    const report = progressBar({ stream: out, width: 4 });
    for (const epoch of [1, 2]) for (const batch of [1, 2, 3, 4]) report(event(batch, epoch));
    await tick();
    expect(out.text()).toBe(
      'epoch 1/2 [====] 4/4 loss 0.6123 accuracy 0.8125 lr 0.00100\n' +
        'epoch 2/2 [====] 4/4 loss 0.6123 accuracy 0.8125 lr 0.00100\n',
    );
  });

  it('is the onProgress of train in one line', async () => {
    const out = capture(false);
    const spec = tinySpec();
    const model = buildModel(spec, { seed: 1 });
    await train(model, halvesDataset(16, 1), {
      epochs: 1,
      batchSize: 8,
      onProgress: progressBar({ stream: out }),
    });
    await tick();
    expect(out.text()).toMatch(
      /^epoch 1\/1 \[=+\] 2\/2 loss \d\.\d{4} accuracy \d\.\d{4} lr 0\.00100\n$/,
    );
    model.dispose();
  });

  it.each([
    [{ width: 0 }, /^width: expected an integer in \[1, 200\], got 0$/],
    [
      { stream: {} },
      /^stream: expected a writable stream \(an object with write\(text\)\), got \{\}$/,
    ],
    [{ colour: true }, /^progressBar options: unknown option "colour"; accepted: stream, width$/],
  ])('rejects %o with INVALID_OPTION', (options, message) => {
    expect(() => progressBar(options as never)).toThrow(message);
  });
});
