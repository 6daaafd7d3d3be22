import * as tf from '@tensorflow/tfjs';
import { TfError } from './errors';

const PATCHED = Symbol.for('@mlship/tf.batchNormalizationPatched');

type CallFn = (this: tf.layers.Layer, inputs: unknown, kwargs?: Record<string, unknown>) => unknown;

/**
 * Makes frozen BatchNormalization layers behave as in Keras 2 (what transfer learning with frozen
 * layers expects): a BatchNormalization layer with `trainable = false` runs in inference mode even
 * inside `fit` — it normalises with its moving mean/variance and never updates them.
 *
 * Stock tfjs-layers (4.22) decides only by `kwargs.training`: during `fit` every BatchNormalization
 * layer normalises with the batch statistics and updates its moving averages, frozen or not, so a
 * "frozen" base model drifts towards the new data. The patch wraps
 * `BatchNormalization.prototype.call` (found through the tfjs serialization registry, so no layer is
 * instantiated and no layer-name counter moves) and forces `training: false` when
 * `!this.trainable`. Trainable layers are untouched. {@link initRuntime} applies it.
 *
 * Limitation: freezing a nested model (`submodel.trainable = false`) does not change the
 * `trainable` flag of the layers inside it in tfjs; freeze the BatchNormalization layers themselves.
 *
 * @returns true if this call installed the patch, false if it was already installed.
 * @throws TfError `BACKEND_INIT_FAILED` if tfjs-layers no longer registers BatchNormalization.
 * @example
 * ```ts
 * patchBatchNormalization();
 * base.layers.forEach((l) => (l.trainable = false)); // BN layers now keep their statistics
 * ```
 */
export function patchBatchNormalization(): boolean {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization'];
  if (entry === undefined) {
    throw new TfError(
      'BACKEND_INIT_FAILED',
      'tfjs-layers did not register a BatchNormalization class; cannot apply the mlship BN fix',
    );
  }
  const proto = entry[0].prototype as unknown as Record<string | symbol, unknown>;
  if (proto[PATCHED] === true) return false;
  const original = proto['call'] as CallFn;
  const patched: CallFn = function (this: tf.layers.Layer, inputs, kwargs) {
    if (!this.trainable && kwargs !== undefined && Boolean(kwargs['training'])) {
      return original.call(this, inputs, { ...kwargs, training: false });
    }
    return original.call(this, inputs, kwargs);
  };
  proto['call'] = patched;
  Object.defineProperty(proto, PATCHED, { value: true });
  return true;
}
