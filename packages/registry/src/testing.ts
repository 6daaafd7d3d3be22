import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkOptions, createRng, sha256Hex } from '@mlship/core';
import { RegistryError } from './errors';

/** Options of {@link writeModelDirForTesting}. */
export interface TestModelDirOptions {
  /** Model name written into mlship.json. Default `cnn`. */
  name?: string;
  /** Seed of the weight bytes (same seed, same bytes). Default 1. */
  seed?: number;
  /**
   * Per-layer seeds overriding `seed`, e.g. `{ dense: 7, dense_1: 7 }` to retrain only the head
   * (the frozen conv layers then keep byte-identical files).
   */
  layerSeeds?: Record<string, number>;
  /** Layers and their float counts. Default: model A (conv2d 320, conv2d_1 18496, dense 204928, dense_1 1290). */
  layers?: Record<string, number>;
  metrics?: Record<string, number>;
  training?: Record<string, unknown>;
  datasets?: Record<string, { fingerprint: string; count?: number }>;
  parent?: unknown;
  strategy?: string | Record<string, unknown> | null;
  /** Fixed `created` time. Default `2026-11-27T00:00:00.000Z`. */
  created?: string;
}

/**
 * The layer sizes (float32 counts) of model A: conv 3x3x1x32, conv 3x3x32x64, dense 1600x128, dense 128x10.
 *
 * @example
 * ```ts
 * await writeModelDirForTesting(dir, { layers: { ...MODEL_A_LAYERS, dense_1: 128 * 5 + 5 } }); // 5 classes
 * ```
 */
export const MODEL_A_LAYERS: Readonly<Record<string, number>> = Object.freeze({
  conv2d: 3 * 3 * 1 * 32 + 32,
  conv2d_1: 3 * 3 * 32 * 64 + 64,
  dense: 1600 * 128 + 128,
  dense_1: 128 * 10 + 10,
});

/**
 * Writes a synthetic model directory (model.json with a one-group-per-layer weightsManifest,
 * `<layer>.weights.bin` with seeded random float32 weights, and mlship.json listing sha256 + bytes
 * of each file) without TensorFlow.js. For tests and benchmarks of the registry and its users.
 *
 * @param dir - directory to create (parents included)
 * @param options - name, seed, per-layer seeds, layer sizes, metadata
 * @returns the files written, `path -> { sha256, bytes }` (mlship.json excluded)
 * @throws RegistryError `INVALID_OPTION` for an unknown option; the `node:fs` error when a file cannot be written
 * @example
 * ```ts
 * await writeModelDirForTesting('/tmp/v1', { seed: 1 });
 * await writeModelDirForTesting('/tmp/v2', { seed: 1, layerSeeds: { dense: 2, dense_1: 2 }, strategy: 'freeze' });
 * ```
 */
export async function writeModelDirForTesting(
  dir: string,
  options: TestModelDirOptions = {},
): Promise<Record<string, { sha256: string; bytes: number }>> {
  checkOptions(
    options,
    [
      'name',
      'seed',
      'layerSeeds',
      'layers',
      'metrics',
      'training',
      'datasets',
      'parent',
      'strategy',
      'created',
    ],
    'writeModelDirForTesting options',
    RegistryError,
  );
  const layers = options.layers ?? MODEL_A_LAYERS;
  const seed = options.seed ?? 1;
  await mkdir(dir, { recursive: true });
  const files: Record<string, { sha256: string; bytes: number }> = {};
  const put = async (path: string, data: Uint8Array): Promise<void> => {
    await writeFile(join(dir, path), data);
    files[path] = { sha256: sha256Hex(data), bytes: data.length };
  };
  const groups: unknown[] = [];
  for (const [layer, count] of Object.entries(layers)) {
    // one stream per layer name, so a layer's bytes depend on its own seed only
    const rng = createRng(
      options.layerSeeds?.[layer] ?? seed,
      ...[...layer].map((c) => c.charCodeAt(0)),
    );
    const w = new Float32Array(count);
    for (let i = 0; i < count; i++) w[i] = (rng.next() - 0.5) * 0.2;
    const path = `${layer}.weights.bin`;
    await put(path, new Uint8Array(w.buffer));
    groups.push({
      paths: [path],
      weights: [{ name: `${layer}/kernel`, shape: [count], dtype: 'float32' }],
    });
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'writeModelDirForTesting',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: options.name ?? 'cnn',
        layers: Object.keys(layers).map((n) => ({ class_name: 'Layer', config: { name: n } })),
      },
    },
    weightsManifest: groups,
  };
  await put('model.json', new TextEncoder().encode(JSON.stringify(modelJson)));
  const meta = {
    format: 'mlship-model/1',
    name: options.name ?? 'cnn',
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    input: { shape: [28, 28, 1], dtype: 'float32', scale: 1 / 255, offset: 0 },
    spec: {},
    training: options.training ?? {
      optimizer: 'adam',
      learningRate: 0.001,
      epochs: 1,
      batchSize: 64,
      seed,
    },
    history: [],
    metrics: options.metrics ?? {},
    datasets: options.datasets ?? {},
    parent: options.parent ?? null,
    strategy: options.strategy ?? null,
    created: options.created ?? '2026-11-27T00:00:00.000Z',
    files,
  };
  await writeFile(join(dir, 'mlship.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return files;
}
