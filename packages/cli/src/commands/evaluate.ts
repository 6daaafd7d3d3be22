import path from 'node:path';
import { BACKEND_FIELD, get } from '../command';
import type { CommandDef } from '../command';
import { describeDataset, loadDataset } from '../data-source';
import type { DatasetSpec } from '../data-source';
import { percent, renderTable } from '../output';
import { startRuntime } from '../runtime';

/** `mlship evaluate`. */
export const evaluateCommand: CommandDef = {
  path: ['evaluate'],
  args: ['<model-dir>'],
  summary:
    'measure a model directory on a dataset: accuracy, loss, per-class precision / recall / F1',
  examples: [
    'mlship evaluate models/cnn --data "mnist:test"',
    'mlship evaluate models/cnn --data "mnist:test[0:1000]" --json',
  ],
  fields: [
    {
      key: 'data',
      flag: '--data <dataset>',
      help: 'images to evaluate on',
      type: { kind: 'dataset' },
      default: 'mnist:test',
    },
    {
      key: 'batchSize',
      flag: '--batch-size <n>',
      help: 'images per predict call',
      type: { kind: 'int' },
      default: 256,
    },
    BACKEND_FIELD,
  ],
  async run({ out, io }, [dir], s) {
    await startRuntime(out, get(s, 'backend'));
    const { evaluate, loadModelDir } = await import('@mlship/model');
    const spec = get<DatasetSpec>(s, 'data');
    const { model, meta } = await loadModelDir(path.resolve(io.cwd, dir!));
    const ds = await loadDataset(spec, io.cwd);
    const e = await evaluate(model, ds, { batchSize: get(s, 'batchSize') });
    model.dispose();
    out.result(
      {
        model: meta.name,
        dir: path.resolve(io.cwd, dir!),
        data: describeDataset(spec),
        count: e.count,
        accuracy: e.accuracy,
        loss: e.loss,
        macro: e.macro,
        perClass: e.perClass,
        confusionMatrix: e.confusionMatrix,
      },
      () =>
        renderTable(
          ['class', 'precision', 'recall', 'f1', 'support'],
          e.perClass.map((c) => [
            c.label,
            c.precision.toFixed(4),
            c.recall.toFixed(4),
            c.f1.toFixed(4),
            c.support,
          ]),
        ) +
        `\n${meta.name}: accuracy ${percent(e.accuracy)}, loss ${e.loss.toFixed(4)}, macro F1 ${e.macro.f1.toFixed(4)} on ${e.count} images (${describeDataset(spec)})`,
    );
  },
};
