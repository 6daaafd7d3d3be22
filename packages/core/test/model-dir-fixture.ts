import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Writes a small, valid mlship model directory (fake weights, real hashes) and returns its files. */
export async function writeModelDir(
  dir: string,
  options: { name?: string; weights?: Record<string, Uint8Array> } = {},
): Promise<Record<string, Uint8Array>> {
  const weights = options.weights ?? {
    'features_conv1.weights.bin': new Uint8Array(1280).fill(1),
    'head_output.weights.bin': new Uint8Array(440).fill(2),
  };
  const modelJson = JSON.stringify({
    format: 'layers-model',
    modelTopology: {},
    weightsManifest: Object.keys(weights).map((p) => ({
      paths: [p],
      weights: [{ name: `${p}/kernel`, shape: [weights[p]!.byteLength / 4], dtype: 'float32' }],
    })),
  });
  const files: Record<string, Uint8Array> = {
    'model.json': new TextEncoder().encode(modelJson),
    ...weights,
  };
  const meta = {
    format: 'mlship-model/1',
    name: options.name ?? 'cnn',
    labels: ['0', '1'],
    input: { shape: [28, 28, 1], dtype: 'float32', scale: 1 / 255, offset: 0 },
    spec: null,
    training: {},
    history: [],
    metrics: { accuracy: 0.9 },
    datasets: { train: { fingerprint: `sha256:${'a'.repeat(64)}`, count: 10 } },
    parent: null,
    strategy: null,
    created: '2026-11-27T00:00:00.000Z',
    files: Object.fromEntries(
      Object.entries(files).map(([p, b]) => [p, { sha256: sha(b), bytes: b.byteLength }]),
    ),
  };
  files['mlship.json'] = new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`);
  await mkdir(dir, { recursive: true });
  for (const [p, b] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), b);
  }
  return files;
}
