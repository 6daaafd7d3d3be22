import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, type AdamUpdateAttrs } from '../kernels/AdamUpdate';

/** The fields of tfjs's AdamOptimizer this subclass reads (private there, stable since tfjs 1.x). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * tfjs's Adam with each variable's step fused into one kernel where the backend has it (wasm, after
 * `initRuntime`): the stock optimizer runs ~13 kernels per variable and step, each a full pass over
 * the variable (the dense head of model A has 206k weights, so its Adam steps cost more than its
 * matmuls). Elsewhere (cpu, tfjs-node) it is the stock optimizer. Same formula, state, weights
 * (`getWeights` / `setWeights`), config and class name ('Adam'), so a model compiled or saved with it
 * is one compiled or saved with `tf.train.adam`. Results match the stock optimizer's within float32
 * rounding (each element is computed in float64 and rounded once).
 *
 * @example
 * ```ts
 * const optimizer = new FusedAdamOptimizer(1e-3);
 * optimizer.minimize(() => loss(model, x, y));
 * ```
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Whether fused steps ran since the accBeta tensors (the stock path's state) were last right. */
  private accBetaStale = false;

  /** @param epsilon - default: the backend's epsilon, as `tf.train.adam` */
  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(
    variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  ): void {
    const grads: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({
          name,
          tensor: variableGradients[name]!,
        }));
    const engine = tf.engine();
    const fused =
      tf.getKernel(ADAM_UPDATE, tf.getBackend()) != null &&
      grads.every(
        ({ name, tensor }) =>
          tensor == null ||
          (tensor.dtype === 'float32' && engine.registeredVariables[name]?.dtype === 'float32'),
      );
    const s = this as unknown as AdamState;
    // Step t = iterations + 1 (counting from 1): its bias corrections 1 - beta^t, computed here
    // rather than read back from the accBeta tensors, which only the stock path needs.
    const t = this.iterations + 1;
    if (!fused) {
      if (this.accBetaStale) {
        tf.tidy(() => {
          s.accBeta1.assign(tf.scalar(s.beta1 ** t));
          s.accBeta2.assign(tf.scalar(s.beta2 ** t));
        });
        this.accBetaStale = false;
      }
      super.applyGradients(variableGradients);
      return;
    }
    this.accBetaStale = true;
    const attrs: AdamUpdateAttrs = {
      learningRate: s.learningRate,
      beta1: s.beta1,
      beta2: s.beta2,
      epsilon: s.epsilon,
      correction1: 1 - s.beta1 ** t,
      correction2: 1 - s.beta2 ** t,
    };
    tf.tidy(() => {
      grads.forEach(({ name, tensor: g }, i) => {
        const value = engine.registeredVariables[name]!;
        const first = (s.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }).variable;
        const second = (s.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }).variable;
        if (g == null) return;
        const [x, m, v] = engine.runKernel<tf.Tensor[]>(
          ADAM_UPDATE,
          { x: value, m: first, v: second, g },
          attrs as unknown as tf.NamedAttrMap,
        );
        first.assign(m!);
        second.assign(v!);
        value.assign(x!);
      });
    });
    this.incrementIterations();
  }

  override async setWeights(
    weightValues: Parameters<tf.AdamOptimizer['setWeights']>[0],
  ): Promise<void> {
    await super.setWeights(weightValues);
    this.accBetaStale = false; // super recomputed them from the restored iterations
  }
}
