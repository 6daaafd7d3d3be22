import path from 'node:path';
import { BACKEND_FIELD, get } from '../command';
import type { CommandDef } from '../command';
import { loadDataset } from '../data-source';
import type { DatasetSpec } from '../data-source';
import { renderTable } from '../output';
import { startRuntime } from '../runtime';

/** `mlship predict`. */
export const predictCommand: CommandDef = {
  path: ['predict'],
  args: ['<model-dir>'],
  summary: 'classify images with a model directory and show the top-k labels',
  examples: [
    'mlship predict models/cnn --data "mnist:test[0:5]"',
    'mlship predict models/cnn --data folder:./digits --top-k 3 --json',
  ],
  fields: [
    {
      key: 'data',
      flag: '--data <dataset>',
      help: 'images to classify',
      type: { kind: 'dataset' },
      default: 'mnist:test[0:10]',
    },
    {
      key: 'limit',
      flag: '--limit <n>',
      help: 'classify at most this many images',
      type: { kind: 'int' },
      default: 100,
    },
    {
      key: 'topK',
      flag: '--top-k <n>',
      help: 'labels to show per image',
      type: { kind: 'int' },
      default: 3,
    },
    BACKEND_FIELD,
  ],
  async run({ out, io }, [dir], s) {
    await startRuntime(out, get(s, 'backend'));
    const { take } = await import('@mlship/data');
    const { loadModelDir, predict } = await import('@mlship/model');
    const { model, meta } = await loadModelDir(path.resolve(io.cwd, dir!));
    const spec = get<DatasetSpec>(s, 'data');
    if (spec.source === 'folder' && spec.size === undefined) {
      const [h, w, c] = meta.input.shape;
      spec.size = [h, w, c === 3 ? 3 : 1];
    }
    const all = await loadDataset(spec, io.cwd);
    const ds = take(all, Math.min(get<number>(s, 'limit'), all.shape[0]));
    const predictions = await predict(model, ds, { topK: get(s, 'topK'), meta });
    model.dispose();
    const rows = predictions.map((p, i) => ({
      index: i,
      label: ds.classNames[ds.labels[i]!] ?? null,
      predicted: p.label,
      probability: p.probability,
      topK: p.topK,
    }));
    const correct = rows.filter((r) => r.label === r.predicted).length;
    out.result(
      { model: meta.name, predictions: rows },
      () =>
        renderTable(
          ['#', 'true label', 'predicted', 'probability', 'top-k'],
          rows.map((r) => [
            r.index,
            r.label,
            r.predicted,
            r.probability.toFixed(4),
            r.topK.map((t) => `${t.label} ${t.probability.toFixed(3)}`).join(', '),
          ]),
        ) + `\n${correct}/${rows.length} predicted labels match the dataset's labels`,
    );
  },
};
