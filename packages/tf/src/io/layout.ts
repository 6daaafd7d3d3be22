import * as tf from '@tensorflow/tfjs';
import { TfError, describeError } from '../errors';
import type { ManifestGroup } from './types';
import { specBytes } from './validate';

/** @internal model.json and the weight files of a model directory, ready to be written. */
export interface DirLayout {
  /** model.json's text (fixed key order, 2-space indent, trailing newline). */
  modelJson: string;
  /** One file per weight-owning layer, in layer order. */
  weightFiles: { path: string; bytes: Uint8Array }[];
}

/**
 * @internal
 * The topology and current weights of a model, in memory (`model.save` to a handler).
 *
 * @param model - the model.
 * @param code - the code to fail with (`SAVE_FAILED` when saving, `INVALID_OPTION` when the model
 *   was passed to a pool or trainer).
 * @throws TfError with `code` when tfjs cannot serialise the model.
 */
export async function captureArtifacts(
  model: tf.LayersModel,
  code: 'SAVE_FAILED' | 'INVALID_OPTION',
): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler((artifacts) => {
        captured = artifacts;
        return Promise.resolve({
          modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts),
        });
      }),
    );
  } catch (e) {
    throw new TfError(code, `Serialising model ${model.name} failed: ${describeError(e)}`, {
      cause: e,
    });
  }
  if (captured === undefined) throw new TfError(code, `Model ${model.name} produced no artifacts`);
  return captured;
}

/**
 * @internal
 * Lays a model's artifacts out as a model directory: one `<layer-name>.weights.bin` per layer that
 * owns weights (layers of a nested model get their own), grouped in layer order whatever tfjs's
 * trainable-first order, and model.json with one manifest group per file. The same weights always
 * give the same bytes.
 *
 * @throws TfError `SAVE_FAILED` when the weight data is shorter than the specs say.
 */
export function layoutPerLayer(model: tf.LayersModel, artifacts: tf.io.ModelArtifacts): DirLayout {
  const data = toBytes(artifacts.weightData);
  const specs = artifacts.weightSpecs ?? [];
  // Weight-owning layers in model order; a nested model (e.g. a frozen base inside a transfer
  // model) contributes its own layers, so each of them still gets its own file.
  const owners: tf.layers.Layer[] = [];
  const visit = (layers: readonly tf.layers.Layer[]): void => {
    for (const layer of layers) {
      const inner = (layer as unknown as { layers?: unknown }).layers;
      if (Array.isArray(inner)) visit(inner as tf.layers.Layer[]);
      else owners.push(layer);
    }
  };
  visit(model.layers);
  const layerOf = new Map<string, number>();
  owners.forEach((layer, index) => {
    for (const w of layer.weights)
      if (!layerOf.has(w.originalName)) layerOf.set(w.originalName, index);
  });

  // Group tfjs's specs by owning layer (tfjs lists trainable weights of all layers first, so a
  // frozen layer would otherwise move in the manifest); keep tfjs's order within a layer.
  const groups = new Map<
    string,
    { order: number; specs: tf.io.WeightsManifestEntry[]; chunks: Uint8Array[] }
  >();
  let offset = 0;
  for (const spec of specs) {
    const size = specBytes(spec, 'the model being saved');
    const chunk = data.subarray(offset, offset + size);
    if (chunk.byteLength !== size) {
      throw new TfError(
        'SAVE_FAILED',
        `Weight data of model ${model.name} ends before weight ${spec.name} (need ${size} bytes at ${offset}, have ${data.byteLength})`,
      );
    }
    offset += size;
    const index = layerOf.get(spec.name);
    const key =
      index === undefined
        ? (spec.name.split('/')[0] ?? spec.name)
        : (owners[index]?.name ?? spec.name);
    const order = index ?? owners.length;
    let group = groups.get(key);
    if (group === undefined) {
      group = { order, specs: [], chunks: [] };
      groups.set(key, group);
    }
    group.specs.push({ name: spec.name, shape: [...spec.shape], dtype: spec.dtype });
    group.chunks.push(chunk);
  }

  const used = new Set<string>();
  const manifest: ManifestGroup[] = [];
  const weightFiles: { path: string; bytes: Uint8Array }[] = [];
  const ordered = [...groups.entries()].sort((a, b) => a[1].order - b[1].order);
  for (const [layerName, group] of ordered) {
    const base = layerName.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'layer';
    let file = `${base}.weights.bin`;
    for (let n = 2; used.has(file); n++) file = `${base}_${n}.weights.bin`;
    used.add(file);
    manifest.push({ paths: [file], weights: group.specs });
    weightFiles.push({ path: file, bytes: concat(group.chunks) });
  }

  const json: Record<string, unknown> = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
  };
  if (artifacts.trainingConfig !== undefined) json['trainingConfig'] = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata !== undefined)
    json['userDefinedMetadata'] = artifacts.userDefinedMetadata;
  json['weightsManifest'] = manifest;
  return { modelJson: `${JSON.stringify(json, null, 2)}\n`, weightFiles };
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (Array.isArray(data)) return concat(data.map((b) => new Uint8Array(b)));
  return new Uint8Array(data);
}

/** @internal The chunks one after the other, in a new buffer of exactly their total size. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
