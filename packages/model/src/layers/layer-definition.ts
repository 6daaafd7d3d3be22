import type { tf } from '@mlship/tf';
import { fail } from './fields';

/** The two named parts of a model: the convolutional feature extractor and the classifier head. */
export type ModelPart = 'features' | 'head';

/** Fields every layer spec may carry. */
export interface LayerSpecBase {
  /**
   * Stable layer name. Must start with `features_` for layers up to and including the first
   * `flatten`/`globalAveragePooling2d`, and with `head_` after it; generated when omitted
   * (`features_conv1`, `features_pool1`, `head_dense1`, `head_output`, ...).
   */
  name?: string;
}

/** Where a layer sits while a spec is validated. @internal */
export interface LayerContext {
  /** The layer's field path, `layers[<index>]`. */
  path: string;
  /** Shape of one example entering the layer (no batch axis). */
  input: readonly number[];
  /** The part the layer belongs to. */
  part: ModelPart;
}

/** What a layer needs to build itself. @internal */
export interface BuildContext {
  /** The resolved, stable layer name. */
  name: string;
  /** The layer's own initialiser seed (derived from the model seed and the layer index). */
  seed: number;
}

/**
 * One layer type of a model spec, in one place: its fields, how it validates them and transforms
 * the shape, how generated names are formed, and how it builds the TensorFlow.js layer. Every
 * type is listed once in `all-layers.ts` (as tfjs-backend-wasm lists its kernel configs).
 *
 * @internal
 */
export interface LayerDefinition<S extends LayerSpecBase & { type: string }> {
  /** The `type` value of the spec. */
  readonly type: S['type'];
  /** Every field the spec may carry, `type` and `name` included (in the order error messages list them). */
  readonly keys: readonly string[];
  /** Generated names are `<part>_<prefix><n>` (`features_conv1`), or `<part>_<prefix>` for a layer that ends the features. */
  readonly namePrefix: string;
  /** Whether this layer ends the feature part (the layers after it form the head). */
  readonly endsFeatures: boolean;
  /**
   * Checks the layer's fields (already known to be among {@link keys}) against the shape entering it
   * and returns the shape leaving it.
   *
   * @throws ModelError `INVALID_SPEC` naming the field
   */
  outputShape(layer: Record<string, unknown>, context: LayerContext): number[];
  /** Builds the TensorFlow.js layer from a validated spec. */
  build(spec: S, context: BuildContext): tf.layers.Layer;
}

/** The spec type a {@link LayerDefinition} describes. @internal */
export type SpecOf<D> = D extends LayerDefinition<infer S> ? S : never;

/**
 * Throws `INVALID_SPEC` unless the layer's input is `[height, width, channels]`.
 *
 * @internal
 */
export function requireSpatial(type: string, context: LayerContext): void {
  if (context.input.length !== 3)
    fail(
      `${context.path}.type`,
      `a layer that takes a flat input (the input to '${type}' is [${context.input.join(', ')}]; '${type}' needs [height, width, channels])`,
      type,
    );
}
