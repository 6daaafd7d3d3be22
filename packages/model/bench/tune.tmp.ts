import { initRuntime } from '@mlship/tf';
import { loadMnist, take } from '@mlship/data';
import { buildModel, defaultCnnSpec, train, evaluate } from '../src/index';
await initRuntime();
const trainAll = await loadMnist({ split: 'train' });
const test = await loadMnist({ split: 'test' });
const n = Number(process.env.N ?? 2000);
const ds = take(trainAll, n);
for (const cfg of JSON.parse(process.env.CFG ?? '[{}]') as Record<string, number>[]) {
  const spec = defaultCnnSpec({ headDropout: cfg.hd ?? 0, featureDropout: cfg.fd ?? 0 });
  const model = buildModel(spec, { seed: cfg.seed ?? 1 });
  const t = performance.now();
  const r = await train(model, ds, {
    epochs: Number(process.env.E ?? 2),
    batchSize: cfg.bs ?? 32,
    learningRate: cfg.lr ?? 0.001,
    seed: 1,
    input: spec.input,
    schedule: cfg.cos ? { type: 'cosine' } : { type: 'constant' },
  });
  const secs = (performance.now() - t) / 1000;
  const ev = await evaluate(model, take(test, Number(process.env.T ?? 1000)));
  console.log(
    JSON.stringify(cfg),
    'acc',
    ev.accuracy,
    'secs',
    secs.toFixed(1),
    'img/s',
    r.history.map((h) => h.imagesPerSec.toFixed(0)).join(','),
  );
  model.dispose();
}
