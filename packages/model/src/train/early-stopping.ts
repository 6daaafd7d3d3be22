import { tf } from '@mlship/tf';
import type { EpochStats } from '@mlship/core';
import type { EarlyStoppingOptions } from './types';

/**
 * Early stopping as an epoch callback (Keras' `EarlyStopping`): watches one metric, says when it
 * has not improved by more than `minDelta` for `patience` epochs, and keeps a copy of the best
 * epoch's weights to put back at the end when `restoreBest` is set.
 *
 * @internal
 */
export class EarlyStopping {
  private best: { epoch: number; value: number; weights: tf.Tensor[] | null } | null = null;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly options: Required<EarlyStoppingOptions>,
  ) {}

  /** The best epoch so far by the monitored metric, or null before the first. */
  get bestEpoch(): number | null {
    return this.best?.epoch ?? null;
  }

  /**
   * Records an epoch's stats (with the model holding that epoch's weights).
   *
   * @returns true when training should stop after this epoch
   */
  onEpochEnd(stats: EpochStats): boolean {
    const { monitor, minDelta, patience, restoreBest } = this.options;
    const value = stats[monitor]!;
    const lower = monitor === 'loss' || monitor === 'valLoss';
    const best = this.best;
    const improved =
      best === null || (lower ? value < best.value - minDelta : value > best.value + minDelta);
    if (improved) {
      if (best?.weights) tf.dispose(best.weights);
      this.best = {
        epoch: stats.epoch,
        value,
        weights: restoreBest ? this.model.getWeights().map((w) => tf.keep(w.clone())) : null,
      };
      return false;
    }
    return stats.epoch - best.epoch >= patience;
  }

  /**
   * Puts the best epoch's weights back when `restoreBest` is set and the model holds another epoch's.
   *
   * @param current - the epoch whose weights the model holds
   * @returns the epoch whose weights the model holds afterwards
   */
  restoreBest(current: number): number {
    const best = this.best;
    if (!this.options.restoreBest || !best?.weights || best.epoch === current) return current;
    this.model.setWeights(best.weights);
    return best.epoch;
  }

  /** Releases the saved weights. */
  dispose(): void {
    if (this.best?.weights) tf.dispose(this.best.weights);
    if (this.best !== null) this.best.weights = null;
  }
}
