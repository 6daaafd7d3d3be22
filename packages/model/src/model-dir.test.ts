import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initRuntime, tf } from '@mlship/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from './build';
import { isModelError } from './errors';
import { halvesDataset, tinySpec } from './internal/testing';
import { loadModelDir, readModelMeta, saveModelDir, verifyModelDir } from './model-dir';
import { predict } from './predict';

let root: string;
let counter = 0;
const fresh = (): string => path.join(root, `m${++counter}`);
const spec = tinySpec();
const probe = halvesDataset(6, 3);

beforeAll(async () => {
  await initRuntime();
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'mlship-model-dir-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function probs(model: tf.LayersModel): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor4d(
      Float32Array.from(probe.images, (v) => v / 255),
      [6, 8, 8, 1],
    );
    return (model.predict(x) as tf.Tensor).arraySync() as number[][];
  });
}

async function saved(): Promise<{ dir: string; model: tf.LayersModel }> {
  const model = buildModel(spec, { seed: 3 });
  const dir = fresh();
  await saveModelDir(
    model,
    dir,
    {
      labels: ['left', 'right'],
      spec,
      training: { optimizer: 'adam', epochs: 1 },
      history: [
        { epoch: 1, loss: 0.5, accuracy: 0.75, learningRate: 0.001, seconds: 1, imagesPerSec: 10 },
      ],
      metrics: { accuracy: 0.75 },
      metricsDataset: 'test',
      datasets: { train: { fingerprint: 'sha256:' + '0'.repeat(64), count: 6 } },
      parent: { name: 'tiny', version: 1, ref: 'tiny@v1.0.0' },
      strategy: 'fine-tune',
      extra: { note: 'kept' },
    },
    { now: () => new Date('2026-11-27T00:00:00.000Z') },
  );
  return { dir, model };
}

describe('saveModelDir', () => {
  it('writes model.json, one weights file per layer with weights, and mlship.json hashing every other file', async () => {
    const { dir, model } = await saved();
    expect((await fs.readdir(dir)).sort()).toEqual([
      'features_conv1.weights.bin',
      'head_dense1.weights.bin',
      'head_output.weights.bin',
      'mlship.json',
      'model.json',
    ]);
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'mlship.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(meta).toMatchObject({
      format: 'mlship-model/1',
      name: 'tiny',
      labels: ['left', 'right'],
      input: spec.input,
      spec,
      metrics: { accuracy: 0.75 },
      metricsDataset: 'test',
      parent: { name: 'tiny', version: 1, ref: 'tiny@v1.0.0' },
      strategy: 'fine-tune',
      created: '2026-11-27T00:00:00.000Z',
      note: 'kept',
    });
    const files = meta['files'] as Record<string, { sha256: string; bytes: number }>;
    expect(Object.keys(files).sort()).toEqual([
      'features_conv1.weights.bin',
      'head_dense1.weights.bin',
      'head_output.weights.bin',
      'model.json',
    ]);
    for (const [rel, entry] of Object.entries(files)) {
      const bytes = await fs.readFile(path.join(dir, rel));
      expect(entry).toEqual({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.byteLength,
      });
    }
    // conv 3*3*1*4 + 4 floats
    expect(files['features_conv1.weights.bin']!.bytes).toBe(40 * 4);
    model.dispose();
  });

  it('records a strategy object with its options (what @mlship/transfer writes) and reads it back', async () => {
    const model = buildModel(spec, { seed: 3 });
    const dir = fresh();
    const strategy = { kind: 'freeze', layers: { type: ['conv2d'] }, learningRate: 0.0005 };
    await saveModelDir(model, dir, { labels: ['left', 'right'], spec, strategy });
    expect((await readModelMeta(dir)).strategy).toEqual(strategy);
    const loaded = await loadModelDir(dir);
    expect(loaded.meta.strategy).toEqual(strategy);
    loaded.model.dispose();
    model.dispose();
  });

  it('refuses to replace a directory without overwrite, and replaces it with overwrite', async () => {
    const { dir, model } = await saved();
    await expect(saveModelDir(model, dir, { labels: ['a', 'b'] })).rejects.toMatchObject({
      code: 'SAVE_FAILED',
      message: expect.stringMatching(/already exists/),
    });
    const result = await saveModelDir(model, dir, { labels: ['a', 'b'] }, { overwrite: true });
    expect((await readModelMeta(dir)).labels).toEqual(['a', 'b']);
    expect(result.meta.name).toBe('tiny');
    model.dispose();
  });

  it.each([
    [
      { labels: ['one'] },
      /^meta\.labels: expected 2 class names \(the model's outputs\), got \["one"\]$/,
    ],
    [{ labels: ['a', 'b'], name: 'Bad Name' }, /^meta\.name: expected a name matching/],
    [
      { labels: ['a', 'b'], metrics: { accuracy: Number.NaN } },
      /^meta\.metrics\.accuracy: expected a finite number, got NaN$/,
    ],
    [
      { labels: ['a', 'b'], created: 'yesterday' },
      /^meta\.created: expected an ISO-8601 date string, got "yesterday"$/,
    ],
    [
      { labels: ['a', 'b'], extra: { files: 1 } },
      /^meta\.extra\.files: expected a key not defined by mlship-model\/1/,
    ],
  ])('rejects metadata %o without writing anything', async (meta, message) => {
    const model = buildModel(spec);
    const dir = fresh();
    await expect(saveModelDir(model, dir, meta)).rejects.toThrow(message);
    await expect(fs.stat(dir)).rejects.toThrow(/ENOENT/);
    model.dispose();
  });
});

// data.reason of each INTEGRITY case below (@mlship/core's IntegrityReason).
const REASONS: Record<string, string> = {
  'a flipped weight byte': 'sha256',
  'a truncated weight file': 'size',
  'a missing weight file': 'missing',
  'an edited model.json': 'size',
  'an extra file': 'unlisted',
  'a weight file that model.json needs but mlship.json does not list': 'unlisted',
};

describe('saveModelDir names', () => {
  // The registry's grammar: a name saveModelDir writes must never be refused by register().
  it.each(['cnn-', 'Cnn', 'a..b', 'x.lock', '-cnn'])(
    'refuses the model name %o with INVALID_NAME before writing',
    async (name) => {
      const model = buildModel(spec);
      const dir = fresh();
      await expect(saveModelDir(model, dir, { labels: ['a', 'b'], name })).rejects.toMatchObject({
        code: 'INVALID_NAME',
        message: expect.stringMatching(
          /^meta\.name: expected a name matching the model-name grammar \(lowercase/,
        ),
        data: { path: 'meta.name' },
      });
      await expect(fs.stat(dir)).rejects.toThrow(/ENOENT/);
      model.dispose();
    },
  );
});

describe('loadModelDir', () => {
  it('loads the model and metadata back with identical predictions', async () => {
    const { dir, model } = await saved();
    const loaded = await loadModelDir(dir);
    expect(probs(loaded.model)).toEqual(probs(model));
    expect(loaded.meta.labels).toEqual(['left', 'right']);
    expect(loaded.meta.spec).toEqual(spec);
    expect(loaded.meta['note']).toBe('kept');
    const [first] = await predict(loaded.model, probe, { meta: loaded.meta });
    expect(['left', 'right']).toContain(first!.label);
    model.dispose();
    loaded.model.dispose();
  });

  it('writes a directory stock TensorFlow.js loads (tf.io.fromMemory + tf.loadLayersModel)', async () => {
    const { dir, model } = await saved();
    const json = JSON.parse(
      await fs.readFile(path.join(dir, 'model.json'), 'utf8'),
    ) as tf.io.ModelJSON;
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const chunks: Buffer[] = [];
    for (const group of json.weightsManifest) {
      weightSpecs.push(...group.weights);
      for (const p of group.paths) chunks.push(await fs.readFile(path.join(dir, p)));
    }
    const all = Buffer.concat(chunks);
    const stock = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      }),
    );
    expect(probs(stock)).toEqual(probs(model));
    model.dispose();
    stock.dispose();
  });

  it('reports LOAD_FAILED naming the problem when verified files do not make a model', async () => {
    const { dir, model } = await saved();
    model.dispose();
    // A consistent (re-hashed) directory whose topology no longer fits its weights.
    const jsonPath = path.join(dir, 'model.json');
    const json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as {
      modelTopology: { config: { layers: { name: string; config: { units?: number } }[] } };
    };
    json.modelTopology.config.layers.find((l) => l.name === 'head_dense1')!.config.units = 9;
    const text = JSON.stringify(json);
    await fs.writeFile(jsonPath, text);
    await rewriteMeta(dir, (m) => ({
      ...m,
      files: {
        ...(m['files'] as Record<string, unknown>),
        'model.json': {
          sha256: createHash('sha256').update(text).digest('hex'),
          bytes: Buffer.byteLength(text),
        },
      },
    }));
    await expect(loadModelDir(dir)).rejects.toMatchObject({
      code: 'LOAD_FAILED',
      message: expect.stringMatching(
        /^loading .*head_dense1\.weights\.bin failed: Weight head_dense1\/kernel .* expects shape \[36,9\], the manifest says \[36,8\]$/,
      ),
      data: { path: expect.stringMatching(/head_dense1\.weights\.bin$/) },
    });
  });

  it.each<[string, (dir: string) => Promise<void>, string, RegExp, string | undefined]>([
    [
      'a flipped weight byte',
      async (d) => flip(path.join(d, 'head_dense1.weights.bin')),
      'INTEGRITY',
      /head_dense1\.weights\.bin: expected sha256 [0-9a-f]{64} \(per mlship\.json\), got [0-9a-f]{64}: the file was modified$/,
      'head_dense1.weights.bin',
    ],
    [
      'a truncated weight file',
      async (d) => truncate(path.join(d, 'head_output.weights.bin')),
      'INTEGRITY',
      /head_output\.weights\.bin: expected 72 bytes \(per mlship\.json\), got 71 \(truncated\)$/,
      'head_output.weights.bin',
    ],
    [
      'a missing weight file',
      async (d) => fs.rm(path.join(d, 'features_conv1.weights.bin')),
      'INTEGRITY',
      /features_conv1\.weights\.bin: listed in mlship\.json \(160 bytes\) but missing$/,
      'features_conv1.weights.bin',
    ],
    [
      'an edited model.json',
      async (d) => fs.appendFile(path.join(d, 'model.json'), ' '),
      'INTEGRITY',
      /model\.json: expected \d+ bytes \(per mlship\.json\), got \d+$/,
      'model.json',
    ],
    [
      'a missing mlship.json',
      async (d) => fs.rm(path.join(d, 'mlship.json')),
      'NOT_A_MODEL_DIR',
      /is not an mlship model directory: mlship\.json is missing \(expected model\.json, \*\.weights\.bin and mlship\.json\)$/,
      undefined,
    ],
    [
      'a mlship.json that is not JSON',
      async (d) => fs.writeFile(path.join(d, 'mlship.json'), '{"format":'),
      'INVALID_META',
      /mlship\.json: expected JSON, got a parse error/,
      undefined,
    ],
    [
      'another format',
      async (d) => rewriteMeta(d, (m) => ({ ...m, format: 'mlship-model/2' })),
      'INVALID_META',
      /mlship\.json: format: expected "mlship-model\/1", got "mlship-model\/2"$/,
      undefined,
    ],
    [
      'an extra file',
      async (d) => fs.writeFile(path.join(d, 'notes.txt'), 'hello'),
      'INTEGRITY',
      /notes\.txt: not listed in mlship\.json files \(every file of a model directory must be\)$/,
      'notes.txt',
    ],
    [
      'a weight file that model.json needs but mlship.json does not list',
      async (d) => {
        await fs.rm(path.join(d, 'features_conv1.weights.bin'));
        await rewriteMeta(d, (m) => {
          const files = { ...(m['files'] as Record<string, unknown>) };
          delete files['features_conv1.weights.bin'];
          return { ...m, files };
        });
      },
      'INTEGRITY',
      /weight file "features_conv1\.weights\.bin" is not listed in mlship\.json files/,
      'features_conv1.weights.bin',
    ],
    [
      'a deleted directory',
      async (d) => fs.rm(d, { recursive: true }),
      'NOT_A_MODEL_DIR',
      /is not an mlship model directory: it does not exist$/,
      undefined,
    ],
  ])('refuses %s', async (what, damage, code, message, file) => {
    const { dir, model } = await saved();
    model.dispose();
    await damage(dir);
    const error = await loadModelDir(dir).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; data?: { path?: string } },
    );
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(message);
    if (file !== undefined) expect(error?.data?.path).toBe(file);
    if (code === 'INTEGRITY') expect(error?.data).toHaveProperty('reason', REASONS[what]);
    await expect(verifyModelDir(dir)).rejects.toMatchObject({ code });
  });
});

describe('loadModelDir and symlinks', () => {
  it('refuses a weight file replaced by a symlink to identical bytes (INTEGRITY, not-regular)', async () => {
    const { dir, model } = await saved();
    model.dispose();
    const file = path.join(dir, 'head_output.weights.bin');
    const copy = path.join(root, `outside-${counter}.bin`);
    await fs.copyFile(file, copy);
    await fs.rm(file);
    await fs.symlink(copy, file);
    const error = await loadModelDir(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'ModelError',
      code: 'INTEGRITY',
      data: { path: 'head_output.weights.bin', reason: 'not-regular' },
    });
    expect(isModelError(error)).toBe(true);
  });
});

async function flip(file: string): Promise<void> {
  const bytes = await fs.readFile(file);
  const at = bytes.length >> 1;
  bytes[at] = bytes[at]! ^ 0x01;
  await fs.writeFile(file, bytes);
}

async function truncate(file: string): Promise<void> {
  const bytes = await fs.readFile(file);
  await fs.writeFile(file, bytes.subarray(0, bytes.length - 1));
}

async function rewriteMeta(
  dir: string,
  change: (meta: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  const file = path.join(dir, 'mlship.json');
  await fs.writeFile(
    file,
    JSON.stringify(change(JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>)),
  );
}
