import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerThree, tempDir, writeModelDirs, type ModelDirs } from '../../test/helpers';
import { formatDiffMarkdown, openRegistry } from '../index';

let root: string;
let cleanup: () => Promise<void>;
let dirs: ModelDirs;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir());
  dirs = await writeModelDirs(root);
});
afterAll(async () => cleanup());

describe('diff', () => {
  it('diffs metrics, params, datasets and layer files, as JSON and as a markdown table', async () => {
    const reg = await openRegistry({ dir: join(root, 'diff'), bare: true });
    await registerThree(reg, dirs);
    const d = await reg.diff('cnn@v1', 'cnn@v2');
    expect(d.metrics.find((m) => m.name === 'accuracy')).toMatchObject({ from: 0.91, to: 0.95 });
    expect(d.metrics.find((m) => m.name === 'accuracy')?.change).toBeCloseTo(0.04, 10);
    expect(d.params.filter((p) => p.changed).map((p) => p.name)).toEqual([
      'frozen',
      'learningRate',
    ]);
    expect(d.datasets).toEqual([
      {
        role: 'train',
        from: { fingerprint: 'sha256:aaaa1111', count: 10000 },
        to: { fingerprint: 'sha256:bbbb2222', count: 10000 },
        changed: true,
      },
    ]);
    expect(Object.fromEntries(d.files.map((f) => [f.path, f.status]))).toEqual({
      'conv2d.weights.bin': 'unchanged',
      'conv2d_1.weights.bin': 'unchanged',
      'dense.weights.bin': 'modified',
      'dense_1.weights.bin': 'modified',
      'mlship.json': 'modified',
      'model.json': 'unchanged',
    });
    const md = formatDiffMarkdown(d);
    expect(md).toMatch(/^\| Metric \| cnn@v1\.0\.0 \| cnn@v2\.0\.0 \| Change \|$/m);
    expect(md).toMatch(/^\| accuracy \| 0\.91 \| 0\.95 \| \+0\.04 \|$/m);
    expect(md).toMatch(/^\| learningRate \| 0\.001 \| 0\.0005 \|$/m);
    expect(md).toMatch(/^\| dense\.weights\.bin \| modified \| 819712 \| 819712 \|$/m);
    expect(md).toMatch(/^\| \(3 unchanged\) \| unchanged \| \| \|$/m);
    expect(md).not.toMatch(/conv2d\.weights\.bin/);
    expect(formatDiffMarkdown(d, { all: true })).toMatch(
      /^\| conv2d\.weights\.bin \| unchanged \|/m,
    );
  });
});
