/** What one training step reports. @internal */
export interface StepResult {
  /** Mean loss of the batch (NaN when the step diverged and was not applied). */
  loss: number;
  /** Images of the batch classified correctly. */
  correct: number;
}

/**
 * Takes the optimizer steps of {@link train}: on the calling thread ({@link LocalStepper}) or
 * data-parallel on worker threads ({@link ParallelStepper}). The loop around it (epochs, batches,
 * progress, validation, early stopping, checkpoints) is the same for both.
 *
 * @internal
 */
export interface Stepper {
  /**
   * Readies the stepper for an epoch.
   *
   * @param changed - whether the trainable variables (and so the optimizer) changed since the last epoch
   * @returns false when `signal` aborted while it was getting ready
   */
  beginEpoch(changed: boolean): Promise<boolean>;
  /** One optimizer step on images `order[start..start+count)` with these labels. */
  step(
    order: Uint32Array | null,
    start: number,
    count: number,
    labels: Int32Array,
  ): Promise<StepResult>;
  /** Releases what the stepper holds (worker threads, lent optimizer); safe to call once at the end. */
  dispose(): Promise<void>;
}
