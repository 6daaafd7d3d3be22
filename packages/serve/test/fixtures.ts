import { mkdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadMnist, take } from '@mlship/data';
import { buildModel, defaultCnnSpec, saveModelDir, train } from '@mlship/model';
import { initRuntime } from '@mlship/tf';

// Two real model-A versions trained briefly on real MNIST bytes (1,500 images, 1 epoch, seeds 1
// and 2), trained by the first test file that asks and kept in the OS temp dir for the next files
// and runs while this recipe is unchanged (written to a temp sibling, then renamed into place).
const RECIPE = 'model-a-1500img-1ep-seeds-1-2-v1';

/** Paths of the two fixture versions (read-only: copy before changing). */
export interface Fixtures {
  v1: string;
  v2: string;
}

let pending: Promise<Fixtures> | undefined;

async function complete(root: string): Promise<boolean> {
  return stat(path.join(root, 'cnn-v2', 'mlship.json')).then(
    () => true,
    () => false,
  );
}

async function build(): Promise<Fixtures> {
  const root = path.join(os.tmpdir(), `mlship-serve-fixtures-${RECIPE}`);
  const dirs = { v1: path.join(root, 'cnn-v1'), v2: path.join(root, 'cnn-v2') };
  if (await complete(root)) return dirs;
  const tmp = `${root}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await initRuntime();
  const data = take(await loadMnist({ split: 'train' }), 1_500);
  const spec = defaultCnnSpec();
  for (const seed of [1, 2]) {
    const model = buildModel(spec, { seed });
    const result = await train(model, data, {
      epochs: 1,
      batchSize: 32,
      learningRate: 0.002,
      seed,
      input: spec.input,
    });
    await saveModelDir(model, path.join(tmp, `cnn-v${seed}`), {
      labels: data.classNames,
      spec,
      training: result.params,
      history: result.history,
      datasets: { train: data },
    });
    model.dispose();
  }
  await rm(root, { recursive: true, force: true });
  await rename(tmp, root);
  return dirs;
}

/** The fixture model directories, trained on first use. */
export function fixtures(): Promise<Fixtures> {
  pending ??= build();
  return pending;
}
