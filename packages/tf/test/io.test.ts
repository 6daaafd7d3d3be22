import { createHash } from 'node:crypto';
import {
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  truncate,
  writeFile,
  appendFile,
  unlink,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TfError,
  initRuntime,
  isTfError,
  loadLayersModel,
  readModelArtifacts,
  saveLayersModel,
  tf,
} from '../src/index';
import type { TfErrorCode } from '../src/index';
import { filesOf } from './helpers';

let root: string;
let model: tf.Sequential;
let input: tf.Tensor4D;

function buildModel(): tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  // Non-default BN statistics, so a save that lost them would change predictions.
  const bn = m.layers[1] as tf.layers.Layer;
  bn.setWeights([tf.fill([4], 1.5), tf.fill([4], 0.25), tf.fill([4], 0.3), tf.fill([4], 2)]);
  return m;
}

const predict = (m: tf.LayersModel): number[] =>
  Array.from((m.predict(input) as tf.Tensor).dataSync());
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  await initRuntime();
  root = await mkdtemp(path.join(tmpdir(), 'mlship-tf-io-'));
  model = buildModel();
  input = tf.randomUniform<tf.Rank.R4>([5, 8, 8, 1], 0, 1, 'float32', 3);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('saveLayersModel / loadLayersModel', () => {
  it('round-trips a conv + batchnorm + dense model: same predictions, one weight file per layer', async () => {
    const dir = path.join(root, 'roundtrip');
    const saved = await saveLayersModel(model, dir);
    expect(saved.dir).toBe(dir);
    const [conv, bn, , dense] = model.layers.map((l) => l.name);
    expect(saved.files.map((f) => f.path)).toEqual([
      'model.json',
      `${conv}.weights.bin`,
      `${bn}.weights.bin`,
      `${dense}.weights.bin`,
    ]);
    expect(saved.files.map((f) => f.bytes)).toEqual([
      expect.any(Number),
      (3 * 3 * 4 + 4) * 4,
      4 * 4 * 4,
      (144 * 3 + 3) * 4,
    ]);
    for (const f of saved.files)
      expect(f.sha256).toBe(sha256(await readFile(path.join(dir, f.path))));

    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(json)).toEqual([
      'format',
      'generatedBy',
      'convertedBy',
      'modelTopology',
      'weightsManifest',
    ]);
    expect(json).toMatchObject({
      format: 'layers-model',
      generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
      convertedBy: null,
    });
    expect(json['weightsManifest']).toEqual([
      {
        paths: [`${conv}.weights.bin`],
        weights: [
          { name: `${conv}/kernel`, shape: [3, 3, 1, 4], dtype: 'float32' },
          { name: `${conv}/bias`, shape: [4], dtype: 'float32' },
        ],
      },
      {
        paths: [`${bn}.weights.bin`],
        weights: ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => ({
          name: `${bn}/${w}`,
          shape: [4],
          dtype: 'float32',
        })),
      },
      {
        paths: [`${dense}.weights.bin`],
        weights: [
          { name: `${dense}/kernel`, shape: [144, 3], dtype: 'float32' },
          { name: `${dense}/bias`, shape: [3], dtype: 'float32' },
        ],
      },
    ]);

    const loaded = await loadLayersModel(dir);
    expect(predict(loaded)).toEqual(predict(model));
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
  });

  it('writes the standard format: stock tf.loadLayersModel(tf.io.fromMemory(...)) loads it', async () => {
    const dir = path.join(root, 'stock');
    await saveLayersModel(model, dir);
    const json = JSON.parse(
      await readFile(path.join(dir, 'model.json'), 'utf8'),
    ) as tf.io.ModelJSON;
    const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
    const buffers = await Promise.all(
      json.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(path.join(dir, p)))),
    );
    const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
    const stock = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }),
    );
    expect(predict(stock)).toEqual(predict(model));
  });

  it('is deterministic: the same weights give byte-identical files, and freezing a layer keeps every weight file', async () => {
    const a = path.join(root, 'det-a');
    const b = path.join(root, 'det-b');
    await saveLayersModel(model, a);
    await saveLayersModel(model, b);
    expect(await filesOf(b)).toEqual(await filesOf(a));

    const frozen = path.join(root, 'det-frozen');
    const conv = model.layers[0] as tf.layers.Layer;
    conv.trainable = false;
    try {
      await saveLayersModel(model, frozen);
    } finally {
      conv.trainable = true;
    }
    const before = await filesOf(a);
    const after = await filesOf(frozen);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const name of Object.keys(before).filter((n) => n.endsWith('.bin')))
      expect(after[name]).toEqual(before[name]);
    expect(after['model.json']).not.toEqual(before['model.json']); // only the topology's trainable flag changed
  });

  it('gives each layer of a nested model (a base inside a transfer model) its own file', async () => {
    const base = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }),
        tf.layers.batchNormalization(),
      ],
    });
    const outer = tf.sequential({
      layers: [base, tf.layers.flatten(), tf.layers.dense({ units: 2 })],
    });
    const dir = path.join(root, 'nested');
    const saved = await saveLayersModel(outer, dir);
    const [conv, bn] = base.layers.map((l) => l.name);
    const dense = outer.layers[2]?.name;
    expect(saved.files.map((f) => f.path)).toEqual([
      'model.json',
      `${conv}.weights.bin`,
      `${bn}.weights.bin`,
      `${dense}.weights.bin`,
    ]);
    expect(predict(await loadLayersModel(dir))).toEqual(predict(outer));
  });

  it('adds extraFiles to the same write, computed from what was written', async () => {
    const dir = path.join(root, 'extra');
    const saved = await saveLayersModel(model, dir, {
      extraFiles: (written) => ({
        'mlship.json': JSON.stringify({
          files: Object.fromEntries(
            written.map((f) => [f.path, { sha256: f.sha256, bytes: f.bytes }]),
          ),
        }),
        'assets/labels.txt': new TextEncoder().encode('a\nb\nc\n'),
      }),
    });
    expect(saved.files.map((f) => f.path).slice(-2)).toEqual(['assets/labels.txt', 'mlship.json']);
    const meta = JSON.parse(await readFile(path.join(dir, 'mlship.json'), 'utf8')) as {
      files: Record<string, { sha256: string }>;
    };
    expect(Object.keys(meta.files)).toEqual(saved.files.slice(0, 4).map((f) => f.path));
    expect(meta.files['model.json']?.sha256).toBe(
      sha256(await readFile(path.join(dir, 'model.json'))),
    );
    expect(await readFile(path.join(dir, 'assets/labels.txt'), 'utf8')).toBe('a\nb\nc\n');
    expect(predict(await loadLayersModel(dir))).toEqual(predict(model));
  });

  it.each([
    ['model.json', /extraFiles path "model\.json" would replace a file the model save wrote/],
    [
      '../escape.txt',
      /extraFiles path "\.\.\/escape\.txt" for .* is not a relative posix path inside the model dir/,
    ],
    ['/abs.txt', /extraFiles path "\/abs\.txt" for .* is not a relative posix path/],
  ])(
    'rejects the extra file path %s with INVALID_OPTION and writes nothing',
    async (rel, message) => {
      const dir = path.join(root, `bad-extra-${rel.replace(/[^a-z]/g, '')}`);
      const error: unknown = await saveLayersModel(model, dir, {
        extraFiles: () => ({ [rel]: 'x' }),
      }).catch((e: unknown) => e);
      expect(isTfError(error) && error.code).toBe('INVALID_OPTION');
      expect((error as Error).message).toMatch(message);
      expect((await readdir(root)).filter((n) => n.includes(path.basename(dir)))).toEqual([]);
    },
  );

  it('refuses to replace an existing dir without overwrite, and replaces it atomically with overwrite', async () => {
    const dir = path.join(root, 'overwrite');
    await saveLayersModel(model, dir);
    const error: unknown = await saveLayersModel(model, dir).catch((e: unknown) => e);
    expect(isTfError(error) && error.code).toBe('SAVE_FAILED');
    expect((error as Error).message).toMatch(
      /^Model dir .*overwrite already exists; pass \{ overwrite: true \} to replace it$/,
    );

    const other = buildModel();
    const dense = other.layers[3] as tf.layers.Layer;
    dense.setWeights(dense.getWeights().map((w) => tf.mul(w, 2)));
    await saveLayersModel(other, dir, { overwrite: true });
    expect(predict(await loadLayersModel(dir))).toEqual(predict(other));
    expect((await readdir(root)).filter((n) => n.startsWith('.overwrite.'))).toEqual([]);
  });
});

describe('crash safety', () => {
  it('an extraFiles failure mid-write leaves the previous model intact and no temporary dir', async () => {
    const dir = path.join(root, 'crash');
    await saveLayersModel(model, dir);
    const before = await filesOf(dir);
    const boom = new Error('disk quota exceeded (simulated)');
    const error: unknown = await saveLayersModel(buildModel(), dir, {
      overwrite: true,
      extraFiles: () => {
        throw boom;
      },
    }).catch((e: unknown) => e);
    expect(isTfError(error) && error.code).toBe('SAVE_FAILED');
    expect((error as Error).message).toMatch(
      /^extraFiles callback failed while saving .*crash: disk quota exceeded \(simulated\)$/,
    );
    expect((error as Error).cause).toBe(boom);
    expect(await filesOf(dir)).toEqual(before);
    expect((await readdir(root)).filter((n) => n.startsWith('.crash.'))).toEqual([]);
  });

  it('restores the previous model when a crash happened between moving it away and moving the new one in', async () => {
    const dir = path.join(root, 'halfway');
    await saveLayersModel(model, dir);
    await rename(dir, path.join(root, '.halfway.old-99999999-abcdef'));
    const error: unknown = await saveLayersModel(model, dir).catch((e: unknown) => e);
    expect(isTfError(error) && error.code).toBe('SAVE_FAILED');
    expect(predict(await loadLayersModel(dir))).toEqual(predict(model));
  });
});

type Corruption = (dir: string, names: string[]) => Promise<void>;
const binOf = (names: string[], layer: number): string => `${names[layer]}.weights.bin`;

describe('loading a corrupted model dir', () => {
  // label, code, data.reason (INTEGRITY only), corruption, message
  const cases: [string, TfErrorCode, string | undefined, Corruption, RegExp][] = [
    [
      'missing dir',
      'NOT_A_MODEL_DIR',
      undefined,
      (dir) => rm(dir, { recursive: true }),
      /^No model at .*: directory .* does not exist \(expected a tfjs layers-model directory with model\.json\)$/,
    ],
    [
      'missing model.json',
      'NOT_A_MODEL_DIR',
      undefined,
      (dir) => unlink(path.join(dir, 'model.json')),
      /^No model at .*: .*model\.json does not exist/,
    ],
    [
      'model.json not JSON',
      'MODEL_JSON_INVALID',
      undefined,
      (dir) => writeFile(path.join(dir, 'model.json'), '{"format": "layers-model",'),
      /model\.json is not valid JSON \(/,
    ],
    [
      'a graph model',
      'MODEL_JSON_INVALID',
      undefined,
      async (dir) => {
        const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        await writeFile(
          path.join(dir, 'model.json'),
          JSON.stringify({ ...json, format: 'graph-model' }),
        );
      },
      /model\.json is not a tfjs layers-model: format is "graph-model", expected "layers-model"$/,
    ],
    [
      'no weightsManifest',
      'MODEL_JSON_INVALID',
      undefined,
      async (dir) => {
        const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        delete json['weightsManifest'];
        await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      },
      /not a tfjs layers-model: weightsManifest is missing, expected an array$/,
    ],
    [
      'a weight file missing',
      'INTEGRITY',
      'missing',
      (dir, names) => unlink(path.join(dir, binOf(names, 3))),
      /^Weight file .*dense_Dense\d+\.weights\.bin listed in .*model\.json is missing \(.*ENOENT.*\); expected 1740 bytes for dense_Dense\d+\/kernel, dense_Dense\d+\/bias$/,
    ],
    [
      'a truncated weight file',
      'INTEGRITY',
      'size',
      (dir, names) => truncate(path.join(dir, binOf(names, 3)), 1739),
      /^Weight file .*dense_Dense\d+\.weights\.bin is truncated: expected 1740 bytes, found 1739 \(manifest: dense_Dense\d+\/kernel float32\[144,3\], dense_Dense\d+\/bias float32\[3\]\)$/,
    ],
    [
      'a weight file too long',
      'INTEGRITY',
      'size',
      (dir, names) => appendFile(path.join(dir, binOf(names, 0)), Buffer.alloc(4)),
      /^Weight file .*conv2d_Conv2D\d+\.weights\.bin is larger than its manifest says: expected 160 bytes, found 164/,
    ],
    [
      'manifest shapes not matching the topology',
      'WEIGHTS_MISMATCH',
      undefined,
      async (dir) => {
        const text = await readFile(path.join(dir, 'model.json'), 'utf8');
        const json = JSON.parse(text) as {
          modelTopology: {
            config: { layers: { class_name: string; config: { units?: number } }[] };
          };
        };
        const dense = json.modelTopology.config.layers.find((l) => l.class_name === 'Dense');
        if (dense === undefined) throw new Error('no Dense layer in the topology');
        dense.config.units = 2;
        await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      },
      /^Weight dense_Dense\d+\/kernel in .*dense_Dense\d+\.weights\.bin: the topology in .*model\.json expects shape \[144,2\], the manifest says \[144,3\]$/,
    ],
  ];

  it.each(cases)('%s -> %s %s', async (label, code, reason, corrupt, message) => {
    const dir = path.join(root, `corrupt-${label.replace(/\W+/g, '-')}`);
    await saveLayersModel(model, dir);
    await corrupt(
      dir,
      model.layers.map((l) => l.name),
    );
    const error: unknown = await loadLayersModel(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TfError);
    expect((error as TfError).code).toBe(code);
    expect((error as TfError).message).toMatch(message);
    expect((error as TfError).data?.path).toMatch(/^\//);
    expect((error as TfError).data?.reason).toBe(reason);
  });

  it('readModelArtifacts returns the validated artifacts for tf.io.fromMemory', async () => {
    const dir = path.join(root, 'artifacts');
    await saveLayersModel(model, dir);
    const artifacts = await readModelArtifacts(dir);
    expect(artifacts.format).toBe('layers-model');
    expect(artifacts.weightSpecs?.map((s) => s.name)).toEqual(
      model.layers.flatMap((l) => l.weights.map((w) => w.originalName)),
    );
    expect((artifacts.weightData as ArrayBuffer).byteLength).toBe(
      (3 * 3 * 4 + 4 + 16 + 144 * 3 + 3) * 4,
    );
    expect(predict(await tf.loadLayersModel(tf.io.fromMemory(artifacts)))).toEqual(predict(model));
  });
});
