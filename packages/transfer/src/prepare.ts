import type { ModelSpec } from '@mlship/model';
import { freeze, unfreeze } from '@mlship/model';
import type { tf } from '@mlship/tf';
import { cloneModel, cloneTopology } from './base';
import type { TransferBase } from './base';
import { TransferError } from './errors';
import { modelLayers, selectLayers } from './selection';
import type { LayerSelection, Strategy } from './strategy';

/** Trainable and frozen parameter counts of a model (frozen includes BatchNormalization moving statistics, as Keras counts them). */
export interface ParameterCounts {
  /** Parameters the optimizer updates. */
  trainable: number;
  /** Parameters that stay fixed: frozen layers' weights and every moving statistic. */
  frozen: number;
  /** All parameters. */
  total: number;
}

/**
 * Trainable and frozen parameter counts of a model as it is now.
 *
 * @param model - the model
 * @returns the counts
 * @throws never
 * @example
 * ```ts
 * freeze(model, 'features');
 * countParameters(model); // { trainable: 206_922, frozen: 18_816, total: 225_738 }
 * ```
 */
export function countParameters(model: tf.LayersModel): ParameterCounts {
  const size = (w: { shape: readonly (number | null)[] }): number =>
    w.shape.reduce<number>((a, d) => a * (d ?? 1), 1);
  const trainable = model.trainableWeights.reduce((a, w) => a + size(w), 0);
  const total = model.weights.reduce((a, w) => a + size(w), 0);
  return { trainable, frozen: total - trainable, total };
}

/** A strategy applied to a copy of the base, before training. @internal */
export interface PreparedModel {
  /** The copy to train (frozen layers set). */
  model: tf.LayersModel;
  /** Names of the layers frozen at the start. */
  frozen: string[];
  /** Spec of the resulting model (the base's, or with the new output size), or null. */
  spec: ModelSpec | null;
  /** Output classes of the resulting model. */
  classes: number;
  /** featureCache: the last frozen layer, where the cache is taken. */
  cut?: tf.layers.Layer;
}

function outputsOf(model: tf.LayersModel): number {
  const shape = model.outputs[0]?.shape ?? [];
  return shape[shape.length - 1] ?? 0;
}

function freezeOnly(model: tf.LayersModel, names: readonly string[]): void {
  unfreeze(
    model,
    modelLayers(model).map((l) => l.name),
  );
  if (names.length > 0) freeze(model, names);
}

function namesOf(model: tf.LayersModel, selection: LayerSelection, path: string): string[] {
  return selectLayers(model, selection, path).map((l) => l.name);
}

function checkSomethingTrains(model: tf.LayersModel, path: string): void {
  if (model.trainableWeights.length === 0) {
    throw new TransferError(
      'INVALID_STRATEGY',
      `${path}: the selection freezes every layer with weights of model ${JSON.stringify(model.name)}; nothing would train`,
      { data: { path } },
    );
  }
}

/**
 * Applies a strategy to a copy of the base: fresh weights (scratch), the base's weights (the rest),
 * a new head (replaceHead), frozen layers set. The base model is not changed.
 *
 * @internal
 */
export async function prepareModel(
  base: TransferBase,
  strategy: Strategy,
  options: { seed: number; classes: number; path: string },
): Promise<PreparedModel> {
  const { seed, classes, path } = options;
  const baseClasses = outputsOf(base.model);
  if (strategy.kind !== 'replaceHead' && classes !== baseClasses) {
    throw new TransferError(
      'INCOMPATIBLE_DATA',
      `data.train: ${classes} classes, but base model ${JSON.stringify(base.name)} has ${baseClasses} outputs; use a 'replaceHead' strategy for a new number of classes`,
      { data: { path: 'data.train.classNames', expected: baseClasses, actual: classes } },
    );
  }
  switch (strategy.kind) {
    case 'scratch': {
      const model = await cloneTopology(base.model, { seed });
      freezeOnly(model, []);
      return { model, frozen: [], spec: base.spec, classes };
    }
    case 'fineTune': {
      const model = await cloneModel(base.model);
      freezeOnly(model, []);
      return { model, frozen: [], spec: base.spec, classes };
    }
    case 'freeze':
    case 'twoPhase':
    case 'featureCache': {
      // Resolve on the base first: errors name the base model's layers.
      const frozen = namesOf(base.model, strategy.layers ?? 'features', `${path}.layers`);
      const model = await cloneModel(base.model);
      freezeOnly(model, frozen);
      checkSomethingTrains(model, `${path}.layers`);
      if (strategy.kind !== 'featureCache') return { model, frozen, spec: base.spec, classes };
      const layers = modelLayers(model);
      const last = Math.max(...frozen.map((n) => layers.findIndex((l) => l.name === n)));
      const gap = layers.slice(0, last).find((l) => !frozen.includes(l.name));
      if (gap !== undefined) {
        model.dispose();
        throw new TransferError(
          'INVALID_STRATEGY',
          `${path}.layers: featureCache caches the output of the model's first layers, so its selection must be a prefix; layer ${JSON.stringify(gap.name)} comes before ${JSON.stringify(layers[last]!.name)} but is not selected`,
          { data: { path: `${path}.layers`, layer: gap.name } },
        );
      }
      return { model, frozen, spec: base.spec, classes, cut: layers[last]! };
    }
    case 'replaceHead': {
      const newClasses = strategy.classes ?? classes;
      if (newClasses !== classes) {
        throw new TransferError(
          'INCOMPATIBLE_DATA',
          `${path}.classes: ${newClasses}, but data.train has ${classes} classes`,
          { data: { path: `${path}.classes`, expected: classes, actual: newClasses } },
        );
      }
      const layers = modelLayers(base.model);
      const head = namesOf(base.model, strategy.head ?? 'head', `${path}.head`);
      const output = layers[layers.length - 1]!;
      if (!head.includes(output.name) || output.getClassName() !== 'Dense') {
        throw new TransferError(
          'INVALID_STRATEGY',
          `${path}.head: expected a selection that includes the model's output layer, a dense layer (${JSON.stringify(output.name)}, ${output.getClassName()})`,
          { data: { path: `${path}.head`, layer: output.name } },
        );
      }
      const model = await cloneTopology(base.model, {
        seed,
        reseed: new Set(head),
        units: { layer: output.name, units: newClasses },
      });
      for (const layer of layers) {
        if (!head.includes(layer.name)) model.getLayer(layer.name).setWeights(layer.getWeights());
      }
      const kept = layers.map((l) => l.name).filter((n) => !head.includes(n));
      const frozen = (strategy.train ?? 'head') === 'head' ? kept : [];
      freezeOnly(model, frozen);
      checkSomethingTrains(model, `${path}.head`);
      let spec: ModelSpec | null = null;
      if (base.spec !== null) {
        const specLayers = base.spec.layers.map((l) => ({ ...l }));
        const lastSpec = specLayers[specLayers.length - 1];
        if (lastSpec !== undefined && lastSpec.type === 'dense') lastSpec.units = newClasses;
        spec = { ...base.spec, layers: specLayers, classes: newClasses };
      }
      return { model, frozen, spec, classes: newClasses };
    }
  }
}

/**
 * Resolves a strategy's layer selections against the base without building anything, so an
 * experiment fails on a typo before its first run.
 *
 * @internal
 */
export function checkStrategyAgainst(base: TransferBase, strategy: Strategy, path: string): void {
  if (
    strategy.kind === 'freeze' ||
    strategy.kind === 'twoPhase' ||
    strategy.kind === 'featureCache'
  ) {
    selectLayers(base.model, strategy.layers ?? 'features', `${path}.layers`);
  }
  if (strategy.kind === 'replaceHead') {
    selectLayers(base.model, strategy.head ?? 'head', `${path}.head`);
  }
}
