import { FusedAdamOptimizer, tf } from '@mlship/tf';
import { optionError } from '../internal/options';
import type { OptimizerName } from './types';

function makeOptimizer(name: OptimizerName, lr: number, momentum: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      // tf.train.adam's formula and state, one kernel per variable and step on wasm.
      return new FusedAdamOptimizer(lr);
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, momentum);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
    case 'adamax':
      return tf.train.adamax(lr);
    case 'adagrad':
      return tf.train.adagrad(lr);
  }
}

function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  // MomentumOptimizer.dispose does not release the learning-rate scalar of its SGD base.
  const c = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (c !== undefined && !c.isDisposed) c.dispose();
}

/**
 * The variables {@link train} updates: the model's trainable weights, in model order.
 *
 * @throws {@link ModelError} `INVALID_OPTION` when nothing is trainable
 * @internal
 */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (vars.length === 0)
    throw optionError('model', 'a model with at least one trainable layer', model.name);
  return vars;
}

/**
 * The model's trainable variables and the optimizer that updates them. tfjs optimizers key their
 * slots by position in the variable list, so a different list (layers frozen or unfrozen between
 * epochs) needs a new optimizer: {@link refresh} makes one.
 *
 * @internal
 */
export class Trainables {
  /** The trainable variables, in model order. */
  vars: tf.Variable[];
  /** The optimizer of the current variable list. */
  optimizer: tf.Optimizer;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly name: OptimizerName,
    private readonly learningRate: number,
    private readonly momentum: number,
  ) {
    this.vars = trainableVariables(model);
    this.optimizer = makeOptimizer(name, learningRate, momentum);
  }

  /**
   * Re-reads the trainable variables; when they changed, the optimizer restarts (fresh slots).
   *
   * @returns whether the variable list changed
   */
  refresh(): boolean {
    const next = trainableVariables(this.model);
    const changed = next.length !== this.vars.length || next.some((v, i) => v !== this.vars[i]);
    if (changed) {
      disposeOptimizer(this.optimizer);
      this.optimizer = makeOptimizer(this.name, this.learningRate, this.momentum);
    }
    this.vars = next;
    return changed;
  }

  /** Sets the learning rate of the following steps. */
  setLearningRate(lr: number): void {
    const o = this.optimizer as unknown as {
      setLearningRate?: (lr: number) => void;
      learningRate: number;
    };
    if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
    else o.learningRate = lr;
  }

  /** Releases the optimizer's tensors. */
  dispose(): void {
    disposeOptimizer(this.optimizer);
  }
}
