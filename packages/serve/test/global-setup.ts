import { mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadMnist, take } from '@mlship/data';
import { buildModel, defaultCnnSpec, saveModelDir, train } from '@mlship/model';
import { initRuntime } from '@mlship/tf';
import type { TestProject } from 'vitest/node';

// Two real model-A versions trained briefly on real MNIST bytes, once per `vitest run` (kept in
// the OS temp dir between runs while this recipe is unchanged). Every test file copies them.
const RECIPE = 'model-a-1500img-1ep-seeds-1-2-v1';

declare module 'vitest' {
  export interface ProvidedContext {
    fixtures: { v1: string; v2: string };
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(path.join(p, 'mlship.json')).then(
    () => true,
    () => false,
  );
}

export async function setup(project: TestProject): Promise<void> {
  const root = path.join(os.tmpdir(), `mlship-serve-fixtures-${RECIPE}`);
  const dirs = { v1: path.join(root, 'cnn-v1'), v2: path.join(root, 'cnn-v2') };
  if (!(await exists(dirs.v1)) || !(await exists(dirs.v2))) {
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    await initRuntime();
    const data = take(await loadMnist({ split: 'train' }), 1_500);
    const spec = defaultCnnSpec();
    for (const [seed, dir] of [
      [1, dirs.v1],
      [2, dirs.v2],
    ] as const) {
      const model = buildModel(spec, { seed });
      const result = await train(model, data, {
        epochs: 1,
        batchSize: 32,
        learningRate: 0.002,
        seed,
        input: spec.input,
      });
      await saveModelDir(model, dir, {
        labels: data.classNames,
        spec,
        training: result.params,
        history: result.history,
        datasets: { train: data },
      });
      model.dispose();
    }
  }
  project.provide('fixtures', dirs);
}
