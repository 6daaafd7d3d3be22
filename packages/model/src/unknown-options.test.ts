import { initRuntime } from '@mlship/tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './build';
import { defaultCnnSpec } from './default-cnn';
import { evaluate } from './evaluate';
import { halvesDataset, tinySpec } from './internal/testing';
import { saveModelDir } from './model-dir';
import { predict } from './predict';
import { train } from './train/train';

// Every public function taking an options object refuses keys it does not read: a misspelt key in
// plain JavaScript would otherwise be ignored silently.
const spec = tinySpec();
const data = halvesDataset(64, 1);

beforeAll(async () => {
  await initRuntime();
});

describe('unknown option keys', () => {
  it.each<[string, () => Promise<unknown>, RegExp, string]>([
    [
      'train',
      () => train(buildModel(spec), data, { epoch: 5 } as never),
      /^train options: unknown option "epoch" \(did you mean "epochs"\?\); accepted: optimizer, learningRate, .*, workers$/,
      'epoch',
    ],
    [
      'train earlyStopping',
      () => train(buildModel(spec), data, { earlyStopping: { patient: 2 } } as never),
      /^earlyStopping: unknown option "patient" \(did you mean "patience"\?\); accepted: monitor, patience, minDelta, restoreBest$/,
      'patient',
    ],
    [
      'train checkpointMeta',
      () =>
        train(buildModel(spec), data, {
          checkpointDir: '/nonexistent/never-written',
          checkpointMeta: { history: [] },
        } as never),
      /^checkpointMeta: unknown option "history"; accepted: name, labels, input, spec, metrics, /,
      'history',
    ],
    [
      'a schedule',
      () =>
        train(buildModel(spec), data, {
          schedule: { type: 'step', every: 1, factr: 0.5 },
        } as never),
      /^schedule: unknown option "factr" \(did you mean "factor"\?\); accepted: type, every, factor$/,
      'factr',
    ],
    [
      'evaluate',
      async () => evaluate(buildModel(spec), data, { batch: 8 } as never),
      /^evaluate options: unknown option "batch"; accepted: batchSize, input$/,
      'batch',
    ],
    [
      'predict',
      async () => predict(buildModel(spec), data, { top: 2 } as never),
      /^predict options: unknown option "top" \(did you mean "topK"\?\); accepted: topK, batchSize, meta, labels$/,
      'top',
    ],
    [
      'buildModel',
      () => Promise.resolve().then(() => buildModel(spec, { sed: 1 } as never)),
      /^buildModel options: unknown option "sed" \(did you mean "seed"\?\); accepted: seed$/,
      'sed',
    ],
    [
      'defaultCnnSpec',
      () => Promise.resolve().then(() => defaultCnnSpec({ filters: [8] } as never)),
      /^defaultCnnSpec options: unknown option "filters"; accepted: name, input, classes, convFilters, /,
      'filters',
    ],
    [
      'saveModelDir meta',
      async () =>
        saveModelDir(buildModel(spec), '/nonexistent/x', {
          labels: ['a', 'b'],
          metric: {},
        } as never),
      /^meta: unknown option "metric" \(did you mean "metrics"\?\); accepted: name, labels, /,
      'metric',
    ],
    [
      'saveModelDir options',
      async () =>
        saveModelDir(buildModel(spec), '/nonexistent/x', { labels: ['a', 'b'] }, {
          overwrites: true,
        } as never),
      /^saveModelDir options: unknown option "overwrites" \(did you mean "overwrite"\?\); accepted: overwrite, now$/,
      'overwrites',
    ],
  ])(
    '%s rejects an unknown key with INVALID_OPTION naming it and the accepted ones',
    async (_what, call, message, key) => {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        name: 'ModelError',
        code: 'INVALID_OPTION',
        message: expect.stringMatching(message),
        data: { path: key, accepted: expect.any(Array) },
      });
    },
  );

  it('rejects options that are not an object', async () => {
    await expect(train(buildModel(spec), data, 5 as never)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'train options: expected an options object, got number',
    });
  });
});
